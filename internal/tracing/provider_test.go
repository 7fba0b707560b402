package tracing

import (
	"context"
	"testing"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestEnabled(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{map[string]string{"OTEL_SERVICE_NAME": "x"}, false},
	} {
		if got := enabled(env(tc.env)); got != tc.want {
			t.Errorf("enabled(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// TestOffStillMakesIDs: with tracing off, spans record nothing but carry
// valid ids, which the log lines use.
func TestOffStillMakesIDs(t *testing.T) {
	ctx := context.Background()
	tr, err := FromEnv(ctx, "test", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Shutdown(ctx) }()
	if tr.Exporting {
		t.Error("Exporting = true with no OTEL_* variables")
	}
	_, span := tr.Provider.Tracer("t").Start(ctx, "s")
	defer span.End()
	if span.IsRecording() || span.SpanContext().IsSampled() || !span.SpanContext().IsValid() {
		t.Errorf("span recording=%v sampled=%v valid=%v, want a valid unsampled non-recording span",
			span.IsRecording(), span.SpanContext().IsSampled(), span.SpanContext().IsValid())
	}
}

func TestConsoleExporter(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	ctx := context.Background()
	tr, err := FromEnv(ctx, "test", env(map[string]string{"OTEL_TRACES_EXPORTER": "console"}))
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Exporting {
		t.Error("Exporting = false with OTEL_TRACES_EXPORTER=console")
	}
	_, span := tr.Provider.Tracer("t").Start(ctx, "s")
	if !span.IsRecording() {
		t.Error("span not recording with an exporter")
	}
	span.End()
	if err := tr.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown() = %v", err)
	}
}

// TestResourceServiceName: the binary's name is the default; the
// standard variables name the service when set (OTEL_SERVICE_NAME over
// OTEL_RESOURCE_ATTRIBUTES), as the README and the chart promise.
func TestResourceServiceName(t *testing.T) {
	for _, tc := range []struct {
		name, attrs, serviceName, want string
	}{
		{"default", "", "", "astraguard"},
		{"resource attributes", "service.name=ag-eu,deployment.environment=prod", "", "ag-eu"},
		{"service name", "", "ag-us", "ag-us"},
		{"service name wins", "service.name=ag-eu", "ag-us", "ag-us"},
		{"other attributes keep the default", "deployment.environment=prod", "", "astraguard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", tc.attrs)
			t.Setenv("OTEL_SERVICE_NAME", tc.serviceName)
			res := newResource(t.Context(), "astraguard")
			got, _ := res.Set().Value(semconv.ServiceNameKey)
			if got.AsString() != tc.want {
				t.Errorf("service.name = %q, want %q (resource %v)", got.AsString(), tc.want, res)
			}
		})
	}
}
