package server

import (
	"context"
	"log/slog"
	"runtime/debug"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// newServerMetrics builds go-grpc-middleware's per-RPC metrics under the
// astraguard_ prefix, with latency buckets down to tens of microseconds
// because a scored batch takes about that long.
func newServerMetrics() *grpcprom.ServerMetrics {
	return grpcprom.NewServerMetrics(
		grpcprom.WithServerCounterOptions(grpcprom.WithNamespace("astraguard")),
		grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramNamespace("astraguard"),
			grpcprom.WithHistogramBuckets([]float64{5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.5, 1, 5, 30}),
		),
	)
}

// interceptorLogger adapts slog to go-grpc-middleware's logging interface.
func interceptorLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// loggingOptions log finished calls only, at DEBUG whatever their code:
// start events would double the log volume of a service whose streams last
// hours, and one INFO line per call would bury the lines an operator needs
// at INFO (breaker transitions, admin actions, model state). Refusals are
// counted per code in astraguard_grpc_server_handled_total, and server
// faults are logged on their own (panics at ERROR). Payloads are never
// logged.
var loggingOptions = []logging.Option{
	logging.WithLogOnEvents(logging.FinishCall),
	logging.WithLevels(func(codes.Code) logging.Level { return logging.LevelDebug }),
}

// recoveryHandler turns a handler panic into INTERNAL without leaking the
// panic value to the client; the stack goes to the log.
func recoveryHandler(l *slog.Logger) recovery.Option {
	return recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		l.ErrorContext(ctx, "handler panicked", "panic", p, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
}
