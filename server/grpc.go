package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"reflect"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/connlimit"
)

// Config holds the server's limits. The zero value is usable.
type Config struct {
	// MaxRecvMsgBytes bounds one request message. Default 4 MiB (gRPC's
	// own default): 100,000 columnar samples with timestamps take about
	// 1.7 MB, and 100,000 frame channels fit with names of up to ~28 bytes.
	MaxRecvMsgBytes int
	// MaxHeaderListBytes bounds a request's metadata (its HTTP/2 header
	// list, names and values decoded). Default 64 KiB, as Envoy's request
	// headers; gRPC's own is 16 MiB per stream, which MaxConcurrentStreams
	// streams on one connection could each hold.
	MaxHeaderListBytes int
	// MaxConnections bounds the connections each listener holds open at
	// once (package connlimit): the gRPC ones, and those given to
	// Server.LimitListener. Default 10,000.
	MaxConnections int
	// MaxConnectionsPerClient bounds those of one client (its IP, an IPv6
	// client's /64) on each listener, so that one client's connections,
	// idle ones too, leave the rest of MaxConnections to other clients
	// and to health checks. Connections beyond it are closed when
	// accepted and counted in astraguard_limit_rejections_total
	// {limit="connections"}. Default a quarter of MaxConnections.
	MaxConnectionsPerClient int
	// MaxSendMsgBytes bounds one response message. Default 4 MiB, gRPC's
	// default receive limit of clients. A request whose response could be
	// larger is refused before it is scored (RESOURCE_EXHAUSTED naming
	// "response size"); see README "Limits" for the bound per sample.
	MaxSendMsgBytes int
	// MaxConcurrentStreams bounds streams per connection. Default 1024.
	MaxConcurrentStreams uint32
	// MaxSamplesPerRequest bounds the samples in one request, a series
	// without values or a frame without channels counting one. Default
	// 100,000.
	MaxSamplesPerRequest int
	// HandshakeTimeout bounds a new connection's setup (TLS and the HTTP/2
	// preface), so peers that connect and stall do not hold connections.
	// Default 5s, as the HTTP port's header timeout; gRPC's own default is
	// 120s. A client's TLS and HTTP/2 setup takes a few round trips.
	HandshakeTimeout time.Duration
	// KeepaliveTime: a connection silent this long gets a ping, and one
	// that leaves it unanswered for KeepaliveTimeout is closed, so a client
	// that vanished (a hung host, a cut network) gives back its streams and
	// their limits within a minute, not when TCP gives up. Defaults 30s
	// and 10s; gRPC's own are 2h and 20s.
	KeepaliveTime, KeepaliveTimeout time.Duration
	// KeepaliveMinTime is the shortest interval at which clients may ping;
	// a connection pinging more often is closed (GOAWAY "too_many_pings"),
	// with or without streams open. Default 10s, the shortest keepalive a
	// gRPC client can set; gRPC's own default, 5 minutes, disconnects
	// every client that turns keepalive on.
	KeepaliveMinTime time.Duration
	// MaxConnectionIdle closes (GOAWAY, then close once its calls are
	// done) a connection that has had no call in flight for this long, so
	// idle connections from many clients cannot hold MaxConnections for
	// good; a client reconnects when it next calls. Default 5 minutes
	// (connlimit.DefaultMaxConnectionIdle); gRPC's own is forever. There
	// is no off: a long value (MaxDuration) comes close.
	MaxConnectionIdle time.Duration

	// The limits below are detector stream limits (server/limits.go,
	// README "Limits"); each refusal is RESOURCE_EXHAUSTED naming the limit.

	// MaxSeriesPerStream bounds the distinct series one Detect stream may
	// send. Default 10,000.
	MaxSeriesPerStream int
	// MaxDetectStreams bounds the Detect streams open at once over all
	// connections; MaxConcurrentStreams only bounds them per connection,
	// where clients queue instead of failing. Default 10,000.
	MaxDetectStreams int
	// MaxDetectStreamsPerClient bounds those of one client (ClientKeyFunc,
	// the peer IP by default), so that one client cannot hold every
	// MaxDetectStreams slot and lock the others out. Default 0: a quarter
	// of MaxDetectStreams.
	MaxDetectStreamsPerClient int
	// QueueDepth bounds the requests waiting between a stream's reader and
	// its scorer. Default 4: two would already overlap decoding with
	// scoring, a few more absorb bursts. Each slot may hold a message of
	// MaxRecvMsgBytes, so a stream holds at most QueueDepth+2 requests (one
	// being read, one being answered): with the defaults 6 x 4 MiB at worst.
	QueueDepth int
	// MaxQueuedBytes bounds the requests held by all Detect streams and
	// DetectBatch calls at once, from the moment gRPC has decoded them
	// until their responses have left, by an estimate of their memory.
	// Half holds admitted requests and unread responses; a stream's
	// reader waits for room there, which slows its client through flow
	// control, so MaxDetectStreams x QueueDepth full-size requests cannot
	// all be held at once. The other half, the waiting room, holds the
	// decoded requests that wait for that room (or for their client's
	// rate budget): a request that does not fit it is refused with
	// RESOURCE_EXHAUSTED (LimitQueuedBytes). A request larger than either
	// part waits until nothing else is held there and is then held
	// alone. Default 256 MiB (10,000 streams x 6 x 4 MiB would be 240 GiB,
	// so the per-stream bound alone does not keep a server up).
	MaxQueuedBytes int
	// SendTimeout ends a stream whose client has not taken a response for
	// this long. Default 30s.
	SendTimeout time.Duration
	// RateLimit is each client's budget in samples per second, over all its
	// streams and calls; a request costs its sample count (a series
	// without values or a frame without channels counting one), at least 1.
	// Default 0: no limit. Clients are told apart by ClientKeyFunc.
	RateLimit float64
	// RateBurst is the samples a client may send at once. Default one
	// second's worth of RateLimit. A request larger than it always fails.
	RateBurst int
	// RateWait is how long an over-budget request may wait for its budget,
	// slowing the client, before it fails. Default 0: fail at once.
	RateWait time.Duration
	// MaxRateClients bounds the clients the rate limiter remembers; the
	// least recently seen is forgotten first. Default 10,000.
	MaxRateClients int

	// MaxWatchStreams bounds the Hub's watchers (WatchBreakers streams and
	// the breaker page's event streams, which share the budget) open at
	// once over all clients, and MaxWatchStreamsPerClient those of one
	// client (told apart by ClientKeyFunc for gRPC, by AddrKey for the
	// page); beyond either a new watch gets RESOURCE_EXHAUSTED (the page
	// 429). Defaults 256 and 8.
	MaxWatchStreams          int
	MaxWatchStreamsPerClient int
}

// DefaultConfig returns the value each zero field of Config takes (see
// each field's doc); the flags of cmd/astraguard take their defaults from
// it. MaxConnectionsPerClient (a quarter of MaxConnections), RateLimit,
// RateBurst and RateWait stay 0: their defaults are derived or off.
func DefaultConfig() Config {
	return Config{
		MaxRecvMsgBytes:          4 << 20,
		MaxHeaderListBytes:       connlimit.DefaultMaxHeaderListBytes,
		MaxConnections:           connlimit.DefaultMax,
		MaxSendMsgBytes:          4 << 20,
		MaxConcurrentStreams:     connlimit.DefaultMaxConcurrentStreams,
		MaxSamplesPerRequest:     100_000,
		HandshakeTimeout:         connlimit.DefaultHandshakeTimeout,
		KeepaliveTime:            30 * time.Second,
		KeepaliveTimeout:         10 * time.Second,
		KeepaliveMinTime:         connlimit.DefaultKeepaliveMinTime,
		MaxConnectionIdle:        connlimit.DefaultMaxConnectionIdle,
		MaxSeriesPerStream:       10_000,
		MaxDetectStreams:         10_000,
		QueueDepth:               4,
		MaxQueuedBytes:           256 << 20,
		SendTimeout:              30 * time.Second,
		MaxRateClients:           10_000,
		MaxWatchStreams:          256,
		MaxWatchStreamsPerClient: 8,
	}
}

// defaults is DefaultConfig, built once.
var defaults = DefaultConfig()

// withDefaults returns c with every zero field set to DefaultConfig's (c
// is validated first: a negative value never gets here).
func (c Config) withDefaults() Config {
	v, d := reflect.ValueOf(&c).Elem(), reflect.ValueOf(defaults)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			v.Field(i).Set(d.Field(i))
		}
	}
	return c
}

// Option configures a Server.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	registerer prometheus.Registerer
	grpcOpts   []grpc.ServerOption
	hooks      streamHooks // see withStreamHooks
	clientKey  ClientKeyFunc
	adminAuth  *AdminAuth          // nil: BreakerAdmin unprotected (auth_server.go)
	adminOwn   bool                // BreakerAdmin on its own grpc.Server
	adminOpts  []grpc.ServerOption // that server's extra options
	tracing    *Tracing            // nil: no tracing (trace.go)
	observer   VerdictObserver     // nil: no observer (observer.go)
}

// WithClientKey sets how the rate limit tells clients apart; the default
// is PeerIP.
func WithClientKey(f ClientKeyFunc) Option { return func(o *options) { o.clientKey = f } }

// WithLogger sets the logger for per-RPC logs and panics; default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRegisterer registers the per-RPC metrics; the default nil registers none.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.registerer = r } }

// WithGRPCOptions adds grpc.ServerOptions, e.g. TLS credentials.
func WithGRPCOptions(opts ...grpc.ServerOption) Option {
	return func(o *options) { o.grpcOpts = append(o.grpcOpts, opts...) }
}

// Server is the assembled gRPC server: DetectorService, BreakerAdmin,
// health and reflection.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
	admin  *AdminService
	detect *DetectorService
	// adminGRPC serves BreakerAdmin when WithAdminServer asked for its own
	// listener, with its own health; both nil when BreakerAdmin shares grpc.
	adminGRPC   *grpc.Server
	adminHealth *health.Server
	conns       *connlimit.Limits
}

// HTTP/2 receive windows of every connection (connlimit.GRPCTransport,
// shared with astraguard-model). A stream's window bounds the bytes the
// transport holds for it before its handler reads them, which
// --max-queued-bytes does not count: a stream that waits for room in that
// budget leaves up to StreamWindowBytes buffered. The connection's window
// is replenished as data arrives, whatever the handlers read, so it
// bounds no memory; it is as large as gRPC's own would grow, so many
// streams of one connection are not slowed by it.
const (
	StreamWindowBytes = connlimit.StreamWindowBytes
	ConnWindowBytes   = connlimit.ConnWindowBytes
)

// New assembles a Server. Health starts NOT_SERVING; call SetServing once
// the dependencies are ready.
func New(scorer Scorer, admin *AdminService, cfg Config, opts ...Option) (*Server, error) {
	if scorer == nil || admin == nil {
		return nil, errors.New("new server: scorer and admin are required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	cfg = cfg.withDefaults()
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	metrics := newServerMetrics()
	if o.registerer != nil {
		if err := o.registerer.Register(metrics); err != nil {
			return nil, err
		}
	}
	detect, err := newDetectorService(scorer, cfg, o.clientKey, newLimitMetrics(o.registerer), o.logger)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	detect.tracer = newTracer(o.tracing)
	detect.hooks = o.hooks
	detect.observer = o.observer
	admin.applyLimits(cfg, o.clientKey, detect.metrics)
	promauto.With(o.registerer).NewGaugeFunc(prometheus.GaugeOpts{
		Name: "astraguard_detect_held_bytes",
		Help: "Bytes of --max-queued-bytes held by Detect streams and DetectBatch calls: requests decoded and waiting, or being answered, and responses their clients have not yet read.",
	}, func() float64 { return float64(detect.queuedNow.Load()) })
	decode := newDecoding(detect.waiting.size, o.hooks) // as large as the waiting room
	promauto.With(o.registerer).NewGaugeFunc(prometheus.GaugeOpts{
		Name: "astraguard_decoding_bytes",
		Help: "Estimated decoded size of the requests being decoded at once (all services), at most half of --max-queued-bytes, or one request alone.",
	}, func() float64 { return float64(decode.Held()) })
	logger := interceptorLogger(o.logger)
	// MaxConcurrentStreams and fixed windows: gRPC's default grows them
	// from bandwidth-delay pings, up to 16 MiB a stream, and a stream's
	// window is what the transport buffers for a handler that has not read
	// it, outside --max-queued-bytes (README "Limits").
	srvOpts := append(connlimit.GRPCTransport(cfg.MaxConcurrentStreams),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		// A backstop: checkResponseSize refuses such requests up front.
		grpc.MaxSendMsgSize(cfg.MaxSendMsgBytes),
		grpc.MaxHeaderListSize(uint32(min(cfg.MaxHeaderListBytes, math.MaxUint32))),
		grpc.ConnectionTimeout(cfg.HandshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: cfg.KeepaliveTime, Timeout: cfg.KeepaliveTimeout, MaxConnectionIdle: cfg.MaxConnectionIdle}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: cfg.KeepaliveMinTime, PermitWithoutStream: true}),
		grpc.ForceServerCodecV2(newServerCodec(decodedBound(cfg.MaxRecvMsgBytes), decode)),
		grpc.ChainUnaryInterceptor(
			metrics.UnaryServerInterceptor(exemplarOption),
			logging.UnaryServerInterceptor(logger, loggingOptions...),
			recovery.UnaryServerInterceptor(recoveryHandler(o.logger)),
		),
		grpc.ChainStreamInterceptor(
			metrics.StreamServerInterceptor(exemplarOption),
			logging.StreamServerInterceptor(logger, loggingOptions...),
			recovery.StreamServerInterceptor(recoveryHandler(o.logger)),
			otherStreams(detect.clientKey, detect.metrics),
		),
	)
	srvOpts = append(srvOpts, o.grpcOpts...)
	if o.tracing != nil && o.tracing.Provider != nil {
		// First: the interceptors below log and observe with its ids.
		srvOpts = append(o.tracing.serverOptions(), srvOpts...)
	}
	srvOpts = append(srvOpts, o.authOptions()...)

	conns, err := connlimit.New(connlimit.Config{Max: cfg.MaxConnections, PerClient: cfg.MaxConnectionsPerClient},
		connlimit.WithRegisterer(o.registerer), connlimit.WithRefusals(detect.metrics.rejections[LimitConnections]))
	if err != nil {
		return nil, err
	}
	s := &Server{
		grpc:   grpc.NewServer(srvOpts...),
		health: health.NewServer(),
		admin:  admin,
		detect: detect,
		conns:  conns,
	}
	astraguardv1.RegisterDetectorServiceServer(s.grpc, detect)
	s.registerAdmin(o, srvOpts, metrics)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	metrics.InitializeMetrics(s.grpc)
	s.setStatus(healthpb.HealthCheckResponse_NOT_SERVING)
	return s, nil
}

// setStatus sets every service's health on the port that serves it: a
// health check of BreakerAdmin on the main port must not say SERVING when
// BreakerAdmin lives on its own address.
func (s *Server) setStatus(st healthpb.HealthCheckResponse_ServingStatus) {
	main := []string{"", astraguardv1.DetectorService_ServiceDesc.ServiceName}
	adminName := astraguardv1.BreakerAdmin_ServiceDesc.ServiceName
	if s.adminHealth == nil {
		main = append(main, adminName)
	} else {
		s.adminHealth.SetServingStatus("", st)
		s.adminHealth.SetServingStatus(adminName, st)
	}
	for _, name := range main {
		s.health.SetServingStatus(name, st)
	}
}

// SetServing flips health to SERVING.
func (s *Server) SetServing() { s.setStatus(healthpb.HealthCheckResponse_SERVING) }

// Serve serves on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(s.conns.Wrap(lis, "grpc")); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Shutdown drains the server: health answers NOT_SERVING at once, open
// streams may finish until ctx is done, then every remaining RPC is cut.
// Watch streams never end on their own, so they are closed first.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	if s.adminHealth != nil {
		s.adminHealth.Shutdown()
	}
	s.admin.closeWatchers()
	done := make(chan struct{})
	go func() {
		s.gracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.stop()
		<-done
	}
	s.detect.wait()
}
