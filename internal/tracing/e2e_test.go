package tracing

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/modelserver"
	"github.com/astraguard/astraguard/internal/testkit"
	"github.com/astraguard/astraguard/internal/tracelog"
	"github.com/astraguard/astraguard/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a log sink that handlers of several goroutines share.
type syncBuffer = testkit.SyncBuffer

// serve serves srv on a bufconn listener and returns a client conn to it.
func serve(t testing.TB, srv testkit.Server, dial ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	return testkit.ServeBufconn(t, srv, dial...)
}

// stoppable adapts server.Server to serve's interface.
type stoppable struct{ *server.Server }

func (s stoppable) Stop() { s.Shutdown(canceled()) }

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestDetectBatchTrace sends a DetectBatch through the real server, the
// remote model client and the astraguard-model server, all traced by one
// recording provider, and checks the spans, their parentage, the log
// line's ids and the latency exemplar.
// traced is the service over the model server, traced into exp.
type traced struct {
	exp    *tracetest.InMemoryExporter
	logs   *syncBuffer
	reg    *prometheus.Registry
	detect astraguardv1.DetectorServiceClient
}

func newTraced(t *testing.T) traced {
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(ctx) })
	tr := &Tracing{Provider: tp, Propagators: propagation.TraceContext{}, Exporting: true, shutdown: tp.Shutdown}
	logs := &syncBuffer{}
	logger := slog.New(tracelog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	// The model server, traced by its own server handler.
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := modelserver.New(tmpl, modelserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mgrpc := grpc.NewServer(grpc.StatsHandler(tr.ServerHandler()))
	inference.RegisterGRPCInferenceServiceServer(mgrpc, ms)
	mconn := serve(t, mgrpc, grpc.WithStatsHandler(tr.ClientHandler()))
	client, err := oip.New(mconn, oip.Config{})
	if err != nil {
		t.Fatal(err)
	}

	// The service over it.
	breakers, err := breaker.NewRegistry(breaker.Settings{FailureThreshold: 5, RecoveryTimeout: 1e9, SuccessThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	gate := breakers.Breaker("model")
	det, err := detector.New(client, gate, detector.Config{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := server.New(det, server.NewAdminService(breakers, server.NewHub(), logger), server.Config{},
		server.WithLogger(logger), server.WithRegisterer(reg),
		server.WithTracing(server.Tracing{Provider: tp, Propagators: tr.Propagators, BreakerState: func() string { return gate.State().String() }}))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetServing()
	conn := serve(t, stoppable{srv})
	return traced{exp: exp, logs: logs, reg: reg, detect: astraguardv1.NewDetectorServiceClient(conn)}
}

func TestDetectBatchTrace(t *testing.T) {
	ctx := context.Background()
	tc := newTraced(t)
	exp, logs, reg := tc.exp, tc.logs, tc.reg
	req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/v", Values: []float64{1, 2, 3}}}}
	if _, err := tc.detect.DetectBatch(ctx, req); err != nil {
		t.Fatalf("DetectBatch() error = %v", err)
	}

	spans := waitSpan(exp, "astraguard.v1.DetectorService/DetectBatch", trace.SpanKindServer)
	srvSpan := findSpan(t, spans, "astraguard.v1.DetectorService/DetectBatch", trace.SpanKindServer)
	attrs := attrMap(srvSpan.Attributes)
	if got := attrs["astraguard.breaker.state"].AsString(); got != breaker.StateClosed.String() {
		t.Errorf("breaker state attribute = %q, want %q", got, breaker.StateClosed)
	}
	model, heur := attrs["astraguard.verdicts.model"].AsInt64(), attrs["astraguard.verdicts.heuristic"].AsInt64()
	if model+heur != 3 {
		t.Errorf("verdict source counts model=%d heuristic=%d, want 3 in all", model, heur)
	}
	if _, ok := attrs["astraguard.fallback_reasons"]; !ok {
		t.Error("no astraguard.fallback_reasons attribute")
	}
	cliSpan := findSpan(t, spans, "inference.GRPCInferenceService/ModelInfer", trace.SpanKindClient)
	modelSpan := findSpan(t, waitSpan(exp, "inference.GRPCInferenceService/ModelInfer", trace.SpanKindServer), "inference.GRPCInferenceService/ModelInfer", trace.SpanKindServer)
	traceID := srvSpan.SpanContext.TraceID()
	if cliSpan.Parent.SpanID() != srvSpan.SpanContext.SpanID() || cliSpan.SpanContext.TraceID() != traceID {
		t.Errorf("model client span parent %v, want the request span %v", cliSpan.Parent, srvSpan.SpanContext)
	}
	if modelSpan.Parent.SpanID() != cliSpan.SpanContext.SpanID() || !modelSpan.Parent.IsRemote() {
		t.Errorf("model server span parent %v, want the remote client span %v", modelSpan.Parent, cliSpan.SpanContext)
	}

	if !logHasTrace(logs.String(), traceID.String()) {
		t.Errorf("no log line carries trace_id %s; logs:\n%s", traceID, logs)
	}

	scrape := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}).ServeHTTP(scrape, r)
	if !hasExemplar(scrape.Body.String(), "astraguard_grpc_server_handling_seconds_bucket", traceID.String()) {
		t.Errorf("no latency bucket with an exemplar of trace %s in:\n%s", traceID, scrape.Body)
	}
}

// waitSpan waits until exp holds a span of that name and kind: a server
// ends its span after its response is on the wire, so possibly after the
// call returned. It gives up after a generous bound; findSpan
// then fails.
func waitSpan(exp *tracetest.InMemoryExporter, name string, kind trace.SpanKind) tracetest.SpanStubs {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, s := range exp.GetSpans() {
			if s.Name == name && s.SpanKind == kind {
				return exp.GetSpans()
			}
		}
	}
	return exp.GetSpans()
}

// TestDetectStreamTrace checks that each request of a Detect stream gets
// its own span, a child of the stream's server span, with the attributes.
func TestDetectStreamTrace(t *testing.T) {
	tc := newTraced(t)
	stream, err := tc.detect.Detect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		req := &astraguardv1.DetectRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "s", Values: []float64{float64(i)}}}}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err == nil {
		t.Fatal("Recv() after CloseSend = nil error, want EOF")
	}
	spans := waitSpan(tc.exp, "astraguard.v1.DetectorService/Detect", trace.SpanKindServer)
	streamSpan := findSpan(t, spans, "astraguard.v1.DetectorService/Detect", trace.SpanKindServer)
	var requests int
	for _, s := range spans {
		if s.Name != "astraguard.v1.DetectorService/Detect.request" {
			continue
		}
		requests++
		if s.Parent.SpanID() != streamSpan.SpanContext.SpanID() {
			t.Errorf("request span parent %v, want the stream span %v", s.Parent, streamSpan.SpanContext)
		}
		a := attrMap(s.Attributes)
		if n := a["astraguard.verdicts.model"].AsInt64() + a["astraguard.verdicts.heuristic"].AsInt64(); n != 1 {
			t.Errorf("request span counts %d verdicts, want 1", n)
		}
	}
	if requests != 2 {
		t.Errorf("%d request spans, want 2", requests)
	}
}

// TestIDsOnlyContinuesTrace: with tracing off the server's log lines
// still carry a trace id, the caller's when it sent a traceparent.
func TestIDsOnlyContinuesTrace(t *testing.T) {
	ctx := context.Background()
	tr, err := FromEnv(ctx, "test", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(tracelog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	breakers, err := breaker.NewRegistry(breaker.Settings{FailureThreshold: 5, RecoveryTimeout: 1e9, SuccessThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	det, err := detector.NewEmbedded(tmpl, breakers.Breaker("model"), detector.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(det, server.NewAdminService(breakers, server.NewHub(), logger), server.Config{},
		server.WithLogger(logger), server.WithTracing(server.Tracing{Provider: tr.Provider, Propagators: tr.Propagators, IDsOnly: true}))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetServing()
	client := astraguardv1.NewDetectorServiceClient(serve(t, stoppable{srv}))
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	cctx := metadata.AppendToOutgoingContext(ctx, "traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "s", Values: []float64{1}}}}
	if _, err := client.DetectBatch(cctx, req); err != nil {
		t.Fatal(err)
	}
	if !logHasTrace(logs.String(), traceID) {
		t.Errorf("no log line carries the caller's trace_id %s; logs:\n%s", traceID, logs)
	}
	if _, err := client.DetectBatch(ctx, req); err != nil {
		t.Fatal(err)
	}
	var withIDs int
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"trace_id":"`) {
			withIDs++
		}
	}
	if withIDs < 2 {
		t.Errorf("%d log lines with a trace_id after two calls, want one per call; logs:\n%s", withIDs, logs)
	}
}

func findSpan(t *testing.T, spans tracetest.SpanStubs, name string, kind trace.SpanKind) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name && s.SpanKind == kind {
			return s
		}
	}
	t.Fatalf("no %v span %q among %d spans", kind, name, len(spans))
	return tracetest.SpanStub{}
}

func attrMap(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// logHasTrace reports whether a JSON log line carries traceID and a span id.
func logHasTrace(logs, traceID string) bool {
	for line := range strings.Lines(logs) {
		var rec struct {
			TraceID string `json:"trace_id"`
			SpanID  string `json:"span_id"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.TraceID == traceID && len(rec.SpanID) == 16 {
			return true
		}
	}
	return false
}

// hasExemplar reports whether a line of metric carries an exemplar of traceID.
func hasExemplar(exposition, metric, traceID string) bool {
	for line := range strings.Lines(exposition) {
		if strings.HasPrefix(line, metric) && strings.Contains(line, `# {trace_id="`+traceID+`"}`) {
			return true
		}
	}
	return false
}
