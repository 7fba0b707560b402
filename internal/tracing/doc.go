// Package tracing builds the OpenTelemetry tracer provider and
// propagators of a binary from the standard OTEL_* environment variables,
// through the contrib autoexport package.
//
// Method: tracing is on when OTEL_TRACES_EXPORTER is set to anything but
// "none", or when it is unset and an OTLP endpoint is
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
// Then the SDK provider samples as OTEL_TRACES_SAMPLER says (default
// parent-based always-on) and exports in batches.
//
// Off, the provider is still an SDK provider, but one that never samples
// and has no span processor: a span is a non-recording span context with
// fresh ids, so log lines (internal/tracelog) and the model server still
// see request-scoped trace ids. The service then gives its RPCs spans
// through server.Tracing.IDsOnly, not otelgrpc's handler, whose per-RPC
// work (about 40 allocations) buys nothing when nothing is recorded.
//
// Contract: nothing here sets the OpenTelemetry globals; callers pass the
// provider and propagators on (otelgrpc.WithTracerProvider,
// WithPropagators) and call Shutdown on exit.
package tracing
