package server

import (
	"context"
	"strings"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// idsOnly gives every RPC a span from the provider without otelgrpc:
// with tracing off nothing is recorded, and otelgrpc's handler would
// still cost about 40 allocations per RPC for spans nobody sees, while
// the log lines only need the ids. The caller's trace context is
// continued as otelgrpc would.
type idsOnly struct {
	tr   trace.Tracer
	prop propagation.TextMapPropagator
}

func (t *Tracing) idsOnlyOptions() []grpc.ServerOption {
	prop := t.Propagators
	if prop == nil {
		prop = propagation.NewCompositeTextMapPropagator()
	}
	ids := idsOnly{tr: t.Provider.Tracer("github.com/astraguard/astraguard/server"), prop: prop}
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(ids.unary), grpc.ChainStreamInterceptor(ids.stream)}
}

func (i idsOnly) start(ctx context.Context, method string) (context.Context, trace.Span) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = i.prop.Extract(ctx, mdCarrier(md))
	}
	return i.tr.Start(ctx, strings.TrimPrefix(method, "/"), trace.WithSpanKind(trace.SpanKindServer))
}

func (i idsOnly) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, span := i.start(ctx, info.FullMethod)
	defer span.End()
	return handler(ctx, req)
}

func (i idsOnly) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, span := i.start(ss.Context(), info.FullMethod)
	defer span.End()
	w := middleware.WrapServerStream(ss)
	w.WrappedContext = ctx
	return handler(srv, w)
}

// mdCarrier reads incoming gRPC metadata, whose keys are lower case.
type mdCarrier metadata.MD

func (c mdCarrier) Get(key string) string {
	if v := metadata.MD(c).Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c mdCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

func (c mdCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
