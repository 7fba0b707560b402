package server

import (
	"context"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/astraguard/astraguard/detector"
)

// Tracing instruments the server with OpenTelemetry (README "Tracing").
type Tracing struct {
	// Provider makes the spans: otelgrpc's server span per RPC, which is
	// the request span of DetectBatch, and one child span per request of
	// a Detect stream.
	Provider trace.TracerProvider
	// Propagators read the caller's trace context; nil reads none.
	Propagators propagation.TextMapPropagator
	// IDsOnly is for a Provider that samples nothing (tracing off): the
	// RPCs get spans for their ids (log lines, the model call's trace
	// context) from a lean interceptor instead of otelgrpc's handler.
	IDsOnly bool
	// BreakerState names the model breaker's state for the request
	// spans' astraguard.breaker.state; nil leaves it out.
	BreakerState func() string
}

// WithTracing instruments the server's RPCs with otelgrpc's stats handler
// and annotates the request spans with how the request was scored.
func WithTracing(t Tracing) Option { return func(o *options) { o.tracing = &t } }

// Attribute keys of a request span.
const (
	attrBreakerState   = attribute.Key("astraguard.breaker.state")
	attrModelVerdicts  = attribute.Key("astraguard.verdicts.model")
	attrHeurVerdicts   = attribute.Key("astraguard.verdicts.heuristic")
	attrNoneVerdicts   = attribute.Key("astraguard.verdicts.none")
	attrFallbackReason = attribute.Key("astraguard.fallback_reasons")
)

// tracer makes the per-request spans of Detect streams and annotates
// request spans; the zero value (no WithTracing) does nothing.
type tracer struct {
	tr           trace.Tracer
	breakerState func() string
}

func newTracer(t *Tracing) tracer {
	if t == nil || t.Provider == nil {
		return tracer{}
	}
	return tracer{tr: t.Provider.Tracer("github.com/astraguard/astraguard/server"), breakerState: t.BreakerState}
}

// statsHandler is the otelgrpc server handler for t; its metrics are off,
// the Prometheus ones cover them.
func (t *Tracing) serverOptions() []grpc.ServerOption {
	if t.IDsOnly {
		return t.idsOnlyOptions()
	}
	return []grpc.ServerOption{t.statsHandler()}
}

func (t *Tracing) statsHandler() grpc.ServerOption {
	opts := []otelgrpc.Option{otelgrpc.WithTracerProvider(t.Provider), otelgrpc.WithMeterProvider(noop.NewMeterProvider())}
	if t.Propagators != nil {
		opts = append(opts, otelgrpc.WithPropagators(t.Propagators))
	}
	return grpc.StatsHandler(otelgrpc.NewServerHandler(opts...))
}

// startRequest starts the span of one request of a Detect stream.
func (t tracer) startRequest(ctx context.Context) (context.Context, trace.Span) {
	if t.tr == nil {
		return ctx, nil
	}
	return t.tr.Start(ctx, "astraguard.v1.DetectorService/Detect.request", trace.WithSpanKind(trace.SpanKindInternal))
}

// annotate records on span how verdicts were scored, when it records.
func (t tracer) annotate(span trace.Span, verdicts []detector.Verdict) {
	if span == nil || !span.IsRecording() {
		return
	}
	var bySource [3]int
	var reasons [16]bool
	for i := range verdicts {
		if s := verdicts[i].Source; int(s) < len(bySource) {
			bySource[s]++
		}
		if r := verdicts[i].Reason; r != detector.ReasonNone && int(r) < len(reasons) {
			reasons[r] = true
		}
	}
	var names []string
	for r, present := range reasons {
		if present {
			names = append(names, detector.Reason(r).String())
		}
	}
	attrs := []attribute.KeyValue{
		attrModelVerdicts.Int(bySource[detector.SourceModel]),
		attrHeurVerdicts.Int(bySource[detector.SourceHeuristic]),
		attrNoneVerdicts.Int(bySource[detector.SourceNone]),
		attrFallbackReason.StringSlice(names),
	}
	if t.breakerState != nil {
		attrs = append(attrs, attrBreakerState.String(t.breakerState()))
	}
	span.SetAttributes(attrs...)
}

// exemplarFromContext labels a latency observation with its trace id
// when the request's span is sampled, for the OpenMetrics exposition.
func exemplarFromContext(ctx context.Context) prometheus.Labels {
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		return prometheus.Labels{"trace_id": sc.TraceID().String()}
	}
	return nil
}

var exemplarOption = grpcprom.WithExemplarFromContext(exemplarFromContext)
