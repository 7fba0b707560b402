package server

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Config holds the server's limits. The zero value is usable.
type Config struct {
	// MaxRecvMsgBytes bounds one request message. Default 16 MiB, room for
	// 100,000 samples with timestamps.
	MaxRecvMsgBytes int
	// MaxConcurrentStreams bounds streams per connection. Default 1024.
	MaxConcurrentStreams uint32
	// MaxSamplesPerRequest bounds the samples in one request. Default 100,000.
	MaxSamplesPerRequest int
}

func (c Config) withDefaults() Config {
	if c.MaxRecvMsgBytes <= 0 {
		c.MaxRecvMsgBytes = 16 << 20
	}
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = 1024
	}
	if c.MaxSamplesPerRequest <= 0 {
		c.MaxSamplesPerRequest = 100_000
	}
	return c
}

// Option configures a Server.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	registerer prometheus.Registerer
	grpcOpts   []grpc.ServerOption
}

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
}

// New assembles a Server. Health starts NOT_SERVING; call SetServing once
// the dependencies are ready.
func New(scorer Scorer, admin *AdminService, cfg Config, opts ...Option) (*Server, error) {
	if scorer == nil || admin == nil {
		return nil, errors.New("new server: scorer and admin are required")
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
	logger := interceptorLogger(o.logger)
	srvOpts := append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		grpc.ChainUnaryInterceptor(
			metrics.UnaryServerInterceptor(),
			logging.UnaryServerInterceptor(logger, loggingOptions...),
			recovery.UnaryServerInterceptor(recoveryHandler(o.logger)),
		),
		grpc.ChainStreamInterceptor(
			metrics.StreamServerInterceptor(),
			logging.StreamServerInterceptor(logger, loggingOptions...),
			recovery.StreamServerInterceptor(recoveryHandler(o.logger)),
		),
	}, o.grpcOpts...)

	s := &Server{
		grpc:   grpc.NewServer(srvOpts...),
		health: health.NewServer(),
		admin:  admin,
	}
	astraguardv1.RegisterDetectorServiceServer(s.grpc, NewDetectorService(scorer, cfg.MaxSamplesPerRequest))
	astraguardv1.RegisterBreakerAdminServer(s.grpc, s.admin)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	metrics.InitializeMetrics(s.grpc)
	s.setStatus(healthpb.HealthCheckResponse_NOT_SERVING)
	return s, nil
}

var services = []string{"", astraguardv1.DetectorService_ServiceDesc.ServiceName, astraguardv1.BreakerAdmin_ServiceDesc.ServiceName}

func (s *Server) setStatus(st healthpb.HealthCheckResponse_ServingStatus) {
	for _, name := range services {
		s.health.SetServingStatus(name, st)
	}
}

// SetServing flips health to SERVING.
func (s *Server) SetServing() { s.setStatus(healthpb.HealthCheckResponse_SERVING) }

// Serve serves on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Shutdown drains the server: health answers NOT_SERVING at once, open
// streams may finish until ctx is done, then every remaining RPC is cut.
// Watch streams never end on their own, so they are closed first.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	s.admin.closeWatchers()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
	}
}
