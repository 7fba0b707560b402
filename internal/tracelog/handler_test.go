package tracelog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

var sc = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
})

func logOne(t *testing.T, ctx context.Context, f func(*slog.Logger) *slog.Logger) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	l := f(slog.New(New(slog.NewJSONHandler(&buf, nil))))
	l.InfoContext(ctx, "msg", "k", "v")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	return rec
}

func TestHandlerAddsIDs(t *testing.T) {
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	same := func(l *slog.Logger) *slog.Logger { return l }
	rec := logOne(t, ctx, func(l *slog.Logger) *slog.Logger { return l.With("component", "grpc") })
	if rec["trace_id"] != sc.TraceID().String() || rec["span_id"] != sc.SpanID().String() || rec["component"] != "grpc" {
		t.Errorf("record = %v, want trace_id %s, span_id %s and component", rec, sc.TraceID(), sc.SpanID())
	}
	rec = logOne(t, context.Background(), same)
	if _, ok := rec["trace_id"]; ok {
		t.Errorf("record without a span = %v, want no trace_id", rec)
	}
}

func TestHandlerIDsOutsideGroups(t *testing.T) {
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	rec := logOne(t, ctx, func(l *slog.Logger) *slog.Logger { return l.With("a", 1).WithGroup("g").With("b", 2) })
	g, _ := rec["g"].(map[string]any)
	if rec["trace_id"] != sc.TraceID().String() || rec["a"] != 1.0 || g["b"] != 2.0 || g["k"] != "v" {
		t.Errorf("record = %v, want trace_id and a at the top, b and k in g", rec)
	}
	if _, ok := g["trace_id"]; ok {
		t.Errorf("trace_id inside the group: %v", rec)
	}
}

// TestHandlerOneValuePerKey: a library that names its component over a
// caller's logger that already did writes the key once, the inner value.
func TestHandlerOneValuePerKey(t *testing.T) {
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	var buf bytes.Buffer
	l := slog.New(New(slog.NewJSONHandler(&buf, nil)))
	l.With("component", "model", "a", 1).With("component", "oip", "model", "m").InfoContext(ctx, "msg")
	line := buf.String()
	if n := strings.Count(line, `"component"`); n != 1 {
		t.Errorf("line %s has the key component %d times, want once", line, n)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["component"] != "oip" || rec["a"] != 1.0 || rec["model"] != "m" || rec["trace_id"] != sc.TraceID().String() {
		t.Errorf("record = %v, want component oip, a 1, model m and the trace id", rec)
	}
}
