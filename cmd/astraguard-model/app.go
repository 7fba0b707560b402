package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/httpserver"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/modelserver"
	"github.com/astraguard/astraguard/internal/protolimit"
	"github.com/astraguard/astraguard/internal/store"
	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tracelog"
	"github.com/astraguard/astraguard/internal/tracing"
)

// maxMessageBytes admits modelserver's largest batch (100k samples with
// their series ids) with room to spare; grpc-go's default is 4 MiB.
const maxMessageBytes = 16 << 20

// maxDecodedBytes bounds one request's decoded size, estimated from the
// wire: nearly empty repeated elements decode to about 70 times their
// wire size (the largest batch, 100,000 samples with ids, estimates
// 10.5 MB).
const maxDecodedBytes = 4 * maxMessageBytes

// decodingBytes bounds the requests decoded at once (protolimit.Budget):
// two requests at maxDecodedBytes, a dozen of the largest batches. Before,
// every call was decoded at once, however many.
const decodingBytes = 2 * maxDecodedBytes

// app is the wired process: gRPC and HTTP servers around one modelserver.
type app struct {
	cfg    config
	logger *slog.Logger
	model  *modelserver.Server
	health *health.Server
	grpc   *grpc.Server
	http   *http.Server
	keeper *checkpoint.Keeper // nil without --state-dir
	conns  *connlimit.Limits  // --max-connections and --max-connections-per-client on both listeners
	decode *protolimit.Budget // requests being decoded at once
	trace  *tracing.Tracing   // OTEL_* (README "Tracing"); shut down last
}

// newApp wires cfg; decodeOpts go to the decoding budget (tests watch it).
func newApp(cfg config, stderr io.Writer, decodeOpts ...protolimit.BudgetOption) (*app, error) {
	logger := slog.New(tracelog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel})))
	tr, err := tracing.FromEnv(context.Background(), "astraguard-model", os.LookupEnv)
	if err != nil {
		return nil, err
	}
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		return nil, fmt.Errorf("new model: %w", err)
	}
	reg := prometheus.NewRegistry()
	srvMetrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		srvMetrics,
	)

	a := &app{cfg: cfg, logger: logger, health: health.NewServer(), trace: tr}
	a.model, err = modelserver.New(tmpl, modelserver.Config{ModelName: cfg.modelName, MaxSeries: cfg.maxSeries, SeriesTTL: cfg.seriesTTL,
		MaxSeriesIDBytes: maxSeriesIDBytes},
		modelserver.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	registerSeriesMetrics(reg, a.model.Series())
	decodeSize := cfg.decodingBytes
	if decodeSize == 0 {
		decodeSize = decodingBytes
	}
	a.decode = protolimit.NewBudget(decodeSize, decodeOpts...)
	registerDecodingMetric(reg, a.decode)
	connRefusals, streamRefusals := limitRejections(reg)
	if a.conns, err = connlimit.New(connlimit.Config{Max: cfg.maxConns, PerClient: cfg.maxConnsPerClient},
		connlimit.WithRegisterer(reg), connlimit.WithRefusals(connRefusals)); err != nil {
		return nil, err
	}
	if err := a.newKeeper(tmpl, reg); err != nil {
		return nil, err
	}
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(func(c codes.Code) logging.Level {
			if c == codes.OK {
				return logging.LevelDebug // one line per inference call is too many at info
			}
			return logging.DefaultServerCodeToLevel(c)
		}),
	}
	recoverOpt := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in handler", "panic", p)
		return status.Error(codes.Internal, "internal error")
	})
	var tlsCfg *tls.Config
	var srvOpts []grpc.ServerOption
	if cfg.tlsCert != "" {
		if tlsCfg, err = tlsconf.Server(tlsconf.ServerFiles{Cert: cfg.tlsCert, Key: cfg.tlsKey, ClientCA: cfg.tlsClientCA}); err != nil {
			return nil, err
		}
		srvOpts = append(srvOpts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	// The service's transport bounds: streams per connection and fixed
	// HTTP/2 receive windows (gRPC's grow to 16 MiB a stream).
	srvOpts = append(srvOpts, connlimit.GRPCTransport(uint32(cfg.maxStreams))...)
	a.grpc = grpc.NewServer(append(srvOpts,
		grpc.StatsHandler(tr.ServerHandler()), // before the interceptors: they log with the span's ids
		grpc.ChainUnaryInterceptor(
			srvMetrics.UnaryServerInterceptor(),
			logging.UnaryServerInterceptor(interceptorLogger(logger), logOpts...),
			recovery.UnaryServerInterceptor(recoverOpt),
		),
		grpc.ChainStreamInterceptor(
			srvMetrics.StreamServerInterceptor(),
			logging.StreamServerInterceptor(interceptorLogger(logger), logOpts...),
			recovery.StreamServerInterceptor(recoverOpt),
			// Health Watch and reflection streams, open to any client.
			connlimit.StreamInterceptor(connlimit.StreamBound{OnRefuse: streamRefusals.Inc}),
		),
		grpc.MaxRecvMsgSize(maxMessageBytes),
		// Each request's decoded size is bounded before decoding, and
		// requests decoding at once hold at most decodingBytes.
		grpc.ForceServerCodecV2(protolimit.Codec(maxDecodedBytes, protolimit.WithBudget(a.decode))),
		grpc.MaxHeaderListSize(connlimit.DefaultMaxHeaderListBytes),
		grpc.ConnectionTimeout(connlimit.DefaultHandshakeTimeout),
		// Idle connections from many clients must not hold --max-connections.
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: cfg.maxConnIdle}),
		// detector/oip pings every 30s while calls are in flight.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: connlimit.DefaultKeepaliveMinTime, PermitWithoutStream: true}),
	)...)
	inference.RegisterGRPCInferenceServiceServer(a.grpc, a.model)
	healthpb.RegisterHealthServer(a.grpc, a.health)
	reflection.Register(a.grpc)
	srvMetrics.InitializeMetrics(a.grpc)
	// Health starts NOT_SERVING and flips once the servers run.
	a.setServing(healthpb.HealthCheckResponse_NOT_SERVING)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", a.readyz)
	a.http = httpserver.New(mux, slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelInfo))
	a.http.TLSConfig = tlsCfg
	return a, nil
}

func (a *app) setServing(st healthpb.HealthCheckResponse_ServingStatus) {
	a.health.SetServingStatus("", st)
	a.health.SetServingStatus(inference.GRPCInferenceService_ServiceDesc.ServiceName, st)
}

func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	res, err := a.health.Check(r.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// serve runs both servers until ctx ends or one fails, then shuts down:
// health NOT_SERVING, GracefulStop bounded by the grace period, then Stop.
func (a *app) serve(ctx context.Context, grpcLis, httpLis net.Listener) error {
	a.restore(ctx) // before serving: the first call already sees the restored state
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// ErrServerStopped: ctx ended before Serve began.
		if err := a.grpc.Serve(a.conns.Wrap(grpcLis, "grpc")); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("serve grpc: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := a.serveHTTP(httpLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	g.Go(func() error { store.SweepEvery(gctx, a.cfg.seriesTTL, a.model.Series().Sweep); return nil })
	g.Go(func() error { a.runCheckpoints(gctx); return nil })
	g.Go(func() error {
		<-gctx.Done()
		return a.shutdown(context.WithoutCancel(ctx))
	})
	a.setServing(healthpb.HealthCheckResponse_SERVING)
	a.logger.InfoContext(ctx, "serving", "grpc_addr", grpcLis.Addr().String(), "http_addr", httpLis.Addr().String(),
		"model", a.cfg.modelName, "instance_id", a.model.InstanceID(), "tls", a.cfg.tlsCert != "", "mtls", a.cfg.tlsClientCA != "")
	return g.Wait()
}

// serveHTTP serves plaintext, or TLS with the gRPC listener's configuration.
func (a *app) serveHTTP(lis net.Listener) error {
	lis = a.conns.Wrap(lis, "http")
	connlimit.DrainIdle(a.http, lis) // idle keep-alive connections give way at the limit
	if a.http.TLSConfig == nil {
		return a.http.Serve(lis)
	}
	return a.http.ServeTLS(lis, "", "") // the certificate comes from TLSConfig.GetCertificate
}

func (a *app) shutdown(ctx context.Context) error {
	a.logger.InfoContext(ctx, "shutting down", "grace_period", a.cfg.grace.String())
	a.health.Shutdown() // probes see NOT_SERVING before the drain
	a.model.SetReady(false)
	ctx, cancel := context.WithTimeout(ctx, a.cfg.grace)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		a.grpc.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		a.logger.WarnContext(ctx, "grace period over, cancelling in-flight calls")
		a.grpc.Stop()
		<-stopped
	}
	a.finalCheckpoint(context.WithoutCancel(ctx))
	if err := a.http.Shutdown(ctx); err != nil {
		a.logger.WarnContext(ctx, "http shutdown cut short", "err", err)
		a.http.Close()
	}
	if err := a.trace.Shutdown(ctx); err != nil {
		a.logger.WarnContext(ctx, "tracing shutdown", "err", err)
	}
	a.logger.InfoContext(ctx, "stopped")
	return nil
}

// interceptorLogger adapts slog to go-grpc-middleware's logging interface.
func interceptorLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}
