package server

import (
	"errors"
	"net"
	"slices"
	"sync"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// WithAdminAuth protects BreakerAdmin with a. Without it BreakerAdmin is
// open to every client that can connect (tests, embedding);
// cmd/astraguard always sets it.
func WithAdminAuth(a *AdminAuth) Option { return func(o *options) { o.adminAuth = a } }

// WithAdminServer serves BreakerAdmin on its own grpc.Server, with health
// and reflection, through ServeAdmin; the main server then no longer
// serves it (calls there get UNIMPLEMENTED). opts are added to the shared
// options, e.g. grpc.Creds for the admin listener's own TLS.
func WithAdminServer(opts ...grpc.ServerOption) Option {
	return func(o *options) {
		o.adminOwn = true
		o.adminOpts = append(o.adminOpts, opts...)
	}
}

// authOptions puts the admin authorization innermost in the chains, after
// metrics and logging, so denials are counted and logged like any error.
func (o options) authOptions() []grpc.ServerOption {
	if o.adminAuth == nil {
		return nil
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(o.adminAuth.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(o.adminAuth.StreamServerInterceptor()),
	}
}

// registerAdmin registers BreakerAdmin on the main server, or builds its
// own server when WithAdminServer asked for one.
func (s *Server) registerAdmin(o options, srvOpts []grpc.ServerOption, metrics *grpcprom.ServerMetrics) {
	if !o.adminOwn {
		astraguardv1.RegisterBreakerAdminServer(s.grpc, s.admin)
		return
	}
	s.adminGRPC = grpc.NewServer(slices.Concat(srvOpts, o.adminOpts)...)
	s.adminHealth = health.NewServer()
	astraguardv1.RegisterBreakerAdminServer(s.adminGRPC, s.admin)
	healthpb.RegisterHealthServer(s.adminGRPC, s.adminHealth)
	reflection.Register(s.adminGRPC)
	metrics.InitializeMetrics(s.adminGRPC)
}

// ServeAdmin serves BreakerAdmin on lis until Shutdown; it needs
// WithAdminServer.
func (s *Server) ServeAdmin(lis net.Listener) error {
	if s.adminGRPC == nil {
		return errors.New("serve admin: the server was built without WithAdminServer")
	}
	if err := s.adminGRPC.Serve(s.conns.Wrap(lis, "admin")); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// gracefulStop drains the main and the admin server at once.
func (s *Server) gracefulStop() {
	if s.adminGRPC == nil {
		s.grpc.GracefulStop()
		return
	}
	var wg sync.WaitGroup
	wg.Go(s.adminGRPC.GracefulStop)
	s.grpc.GracefulStop()
	wg.Wait()
}

// stop cuts every remaining RPC on both servers.
func (s *Server) stop() {
	s.grpc.Stop()
	if s.adminGRPC != nil {
		s.adminGRPC.Stop()
	}
}
