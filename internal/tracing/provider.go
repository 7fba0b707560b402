package tracing

import (
	"context"
	"fmt"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/stats"
)

// Tracing is a binary's tracer provider and propagators.
type Tracing struct {
	Provider    trace.TracerProvider
	Propagators propagation.TextMapPropagator
	// Exporting says whether spans are sampled and exported.
	Exporting bool
	shutdown  func(context.Context) error
}

// Shutdown flushes the spans not yet exported and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// FromEnv builds the tracing of service from the OTEL_* variables read
// through lookup (os.LookupEnv in production). The exporter itself reads
// the process environment, as autoexport does.
func FromEnv(ctx context.Context, service string, lookup func(string) (string, bool)) (*Tracing, error) {
	t := &Tracing{
		Propagators: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	if !enabled(lookup) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		t.Provider, t.shutdown = tp, tp.Shutdown
		return t, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(newResource(ctx, service)))
	t.Provider, t.shutdown, t.Exporting = tp, tp.Shutdown, true
	return t, nil
}

// newResource describes the process: the SDK's defaults, service.name set
// to service, and over both what OTEL_RESOURCE_ATTRIBUTES and
// OTEL_SERVICE_NAME say (the latter wins over a service.name in the
// former, as the specification asks), so a deployment that names itself
// is reported under its own name.
func newResource(ctx context.Context, service string) *resource.Resource {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		res = resource.Default() // a schema clash only loses the default name
	}
	env, err := resource.New(ctx, resource.WithFromEnv())
	if err != nil && env == nil { // a malformed variable still yields the attributes it could parse
		return res
	}
	if merged, err := resource.Merge(res, env); err == nil {
		return merged
	}
	return res
}

// enabled reports whether the environment asks for exported traces.
func enabled(lookup func(string) (string, bool)) bool {
	if v, ok := lookup("OTEL_TRACES_EXPORTER"); ok && v != "" {
		return v != "none"
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if v, ok := lookup(k); ok && v != "" {
			return true
		}
	}
	return false
}

// ServerHandler is otelgrpc's server stats handler over t; its metrics
// are off, Prometheus covers them.
func (t *Tracing) ServerHandler() stats.Handler {
	return otelgrpc.NewServerHandler(t.otelgrpcOptions()...)
}

// ClientHandler is otelgrpc's client stats handler over t, which starts a
// client span per call and sends the trace context along.
func (t *Tracing) ClientHandler() stats.Handler {
	return otelgrpc.NewClientHandler(t.otelgrpcOptions()...)
}

func (t *Tracing) otelgrpcOptions() []otelgrpc.Option {
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(t.Provider),
		otelgrpc.WithPropagators(t.Propagators),
		otelgrpc.WithMeterProvider(noop.NewMeterProvider()),
	}
}
