package main

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/gen/inference"
)

// fakeModelServer is an Open Inference Protocol server on loopback whose
// ModelInfer answers with infer; it reports itself ready.
type fakeModelServer struct {
	inference.UnimplementedGRPCInferenceServiceServer
	mu    sync.Mutex
	infer func(n int) (*inference.ModelInferResponse, error) // n: samples asked
	calls atomic.Int64
}

func (f *fakeModelServer) set(infer func(n int) (*inference.ModelInferResponse, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.infer = infer
}

func (f *fakeModelServer) ServerReady(context.Context, *inference.ServerReadyRequest) (*inference.ServerReadyResponse, error) {
	return &inference.ServerReadyResponse{Ready: true}, nil
}

func (f *fakeModelServer) ModelReady(context.Context, *inference.ModelReadyRequest) (*inference.ModelReadyResponse, error) {
	return &inference.ModelReadyResponse{Ready: true}, nil
}

func (f *fakeModelServer) ModelInfer(_ context.Context, req *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	f.calls.Add(1)
	n := 0
	for _, in := range req.GetInputs() {
		if in.GetName() == "value" {
			n = int(in.GetShape()[0])
		}
	}
	f.mu.Lock()
	infer := f.infer
	f.mu.Unlock()
	return infer(n)
}

// startModelServer serves f on 127.0.0.1 until the test ends.
func startModelServer(t *testing.T, f *fakeModelServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	inference.RegisterGRPCInferenceServiceServer(srv, f)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return lis.Addr().String()
}

// outputs answers n samples with the given score, anomaly false, warm.
func outputs(n int, score float64) *inference.ModelInferResponse {
	scores, flags, warm := make([]float64, n), make([]bool, n), make([]bool, n)
	for i := range n {
		scores[i], warm[i] = score, true
	}
	return &inference.ModelInferResponse{Outputs: []*inference.ModelInferResponse_InferOutputTensor{
		{Name: "score", Datatype: "FP64", Shape: []int64{int64(n)}, Contents: &inference.InferTensorContents{Fp64Contents: scores}},
		{Name: "anomaly", Datatype: "BOOL", Shape: []int64{int64(n)}, Contents: &inference.InferTensorContents{BoolContents: flags}},
		{Name: "warm", Datatype: "BOOL", Shape: []int64{int64(n)}, Contents: &inference.InferTensorContents{BoolContents: warm}},
	}}
}

// startWithModel runs the service against a fake model server and
// returns a detector client, the service's HTTP address and its logs.
func startWithModel(t *testing.T, f *fakeModelServer, args ...string) (astraguardv1.DetectorServiceClient, *grpc.ClientConn, string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	logs := &syncBuffer{}
	args = append([]string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--grace-period=1s",
		"--model-addr=" + startModelServer(t, f), "--model-timeout=2s"}, args...)
	addrs, done := startRun(t, ctx, logs, args...)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run() = %v", err)
		}
	})
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return astraguardv1.NewDetectorServiceClient(conn), conn, addrs.HTTP, logs
}

func detectOne(t *testing.T, c astraguardv1.DetectorServiceClient, id string, values ...float64) []*astraguardv1.Verdict {
	t.Helper()
	resp, err := c.DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: id, Values: values}}})
	if err != nil || len(resp.GetVerdicts()) != len(values) {
		t.Fatalf("DetectBatch() = %v, %v; want %d verdicts", resp, err, len(values))
	}
	return resp.GetVerdicts()
}

func readyzStatus(t *testing.T, httpAddr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestModelRejectionsOpenBreaker: a model server that rejects every call
// with a code about the request (not the transport) is as unusable as one
// that is down: the breaker opens after --failure-threshold calls, later
// batches pay no round trip, /readyz reports it, and the failures are
// logged at WARN, rate-limited.
func TestModelRejectionsOpenBreaker(t *testing.T) {
	for _, code := range []codes.Code{codes.NotFound, codes.Unimplemented, codes.FailedPrecondition,
		codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied, codes.Canceled} {
		t.Run(code.String(), func(t *testing.T) {
			f := &fakeModelServer{}
			f.set(func(int) (*inference.ModelInferResponse, error) { return nil, status.Error(code, "rejected") })
			c, _, httpAddr, logs := startWithModel(t, f, "--failure-threshold=3", "--recovery-timeout=1h")
			for i := range 3 {
				if v := detectOne(t, c, "sat1/pressure", 10)[0]; v.GetFallbackReason() != astraguardv1.FallbackReason_FALLBACK_REASON_MODEL_ERROR {
					t.Fatalf("call %d: verdict %v, want MODEL_ERROR", i, v)
				}
			}
			if v := detectOne(t, c, "sat1/pressure", 10)[0]; v.GetFallbackReason() != astraguardv1.FallbackReason_FALLBACK_REASON_BREAKER_OPEN {
				t.Errorf("after 3 rejections: verdict %v, want BREAKER_OPEN", v)
			}
			if n := f.calls.Load(); n != 3 {
				t.Errorf("model calls = %d, want 3 (none once open)", n)
			}
			if code, body := readyzStatus(t, httpAddr); code != http.StatusServiceUnavailable || !strings.Contains(body, "breaker is open") {
				t.Errorf("/readyz = %d %q, want 503 naming the open breaker", code, body)
			}
			warns := regexp.MustCompile(`"level":"WARN","msg":"model call failed; the heuristic answers"`).FindAllString(logs.String(), -1)
			if len(warns) != 1 {
				t.Errorf("%d WARN lines for 3 failures, want 1 (rate-limited); logs:\n%s", len(warns), logs.String())
			}
		})
	}
}

// TestInvalidModelOutputIsAFailure: scores outside [0, 1] (NaN, ±Inf,
// negative, above 1) and malformed outputs are never reported as model
// verdicts: the heuristic answers with MODEL_INVALID_OUTPUT, the breaker
// counts a failure, and so does astraguard_anomaly_model_invalid_outputs_total.
func TestInvalidModelOutputIsAFailure(t *testing.T) {
	f := &fakeModelServer{}
	c, _, httpAddr, _ := startWithModel(t, f, "--failure-threshold=1000")
	type answer = func(n int) (*inference.ModelInferResponse, error)
	score := func(s float64) answer {
		return func(n int) (*inference.ModelInferResponse, error) { return outputs(n, s), nil }
	}
	mangle := func(m func(*inference.ModelInferResponse)) answer {
		return func(n int) (*inference.ModelInferResponse, error) { r := outputs(n, 0.5); m(r); return r, nil }
	}
	cases := []struct {
		name string
		ans  answer
	}{
		{"NaN", score(nan())}, {"+Inf", score(inf(1))}, {"-Inf", score(inf(-1))}, {"negative", score(-0.5)}, {"above 1", score(7)},
		{"wrong datatype", mangle(func(r *inference.ModelInferResponse) { r.Outputs[0].Datatype = "FP32" })},
		{"wrong count", mangle(func(r *inference.ModelInferResponse) {
			r.Outputs[0].Contents.Fp64Contents = r.Outputs[0].Contents.Fp64Contents[1:]
		})},
		{"wrong shape", mangle(func(r *inference.ModelInferResponse) { r.Outputs[1].Shape = []int64{99} })},
		{"missing output", mangle(func(r *inference.ModelInferResponse) { r.Outputs = r.Outputs[:2] })},
	}
	for _, tc := range cases {
		f.set(tc.ans)
		for i, v := range detectOne(t, c, "sat1/pressure", 10, 11) {
			if v.GetSource() != astraguardv1.Source_SOURCE_HEURISTIC || v.GetFallbackReason() != astraguardv1.FallbackReason_FALLBACK_REASON_MODEL_INVALID_OUTPUT {
				t.Errorf("%s: verdict %d = %v, want HEURISTIC with MODEL_INVALID_OUTPUT", tc.name, i, v)
			}
		}
	}
	f.set(score(0.25))
	if v := detectOne(t, c, "sat1/pressure", 10)[0]; v.GetSource() != astraguardv1.Source_SOURCE_MODEL || v.GetScore() != 0.25 {
		t.Errorf("valid output: verdict %v, want the model's 0.25", v)
	}
	body := httpGet(t, "http://"+httpAddr+"/metrics")
	for _, want := range []string{
		"\nastraguard_anomaly_model_invalid_outputs_total 9\n",
		"\nastraguard_circuit_failures_total{circuit_name=\"model\"} 9\n",
		"\nastraguard_anomaly_fallback_samples_total{reason=\"model_invalid_output\"} 18\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestLimitViolationScoresOneOnBothPaths: an operating-limit violation is
// an anomaly with score 1 whether the model or the heuristic answers.
func TestLimitViolationScoresOneOnBothPaths(t *testing.T) {
	f := &fakeModelServer{}
	f.set(func(n int) (*inference.ModelInferResponse, error) { return outputs(n, 0), nil })
	c, conn, httpAddr, _ := startWithModel(t, f)
	check := func(path string, src astraguardv1.Source) {
		vs := detectOne(t, c, "sat1/voltage", 8.1, 12) // the seed's voltage limit is [7, 9]
		if v := vs[1]; v.GetSource() != src || v.GetScore() != 1 || !v.GetAnomaly() || !v.GetLimitViolation() {
			t.Errorf("%s path: violation verdict %v, want score 1, anomaly, limit_violation from %v", path, v, src)
		}
		if v := vs[0]; v.GetSource() != src || v.GetAnomaly() || v.GetLimitViolation() {
			t.Errorf("%s path: in-limit verdict %v, want no anomaly from %v", path, v, src)
		}
	}
	check("model", astraguardv1.Source_SOURCE_MODEL)
	if _, err := astraguardv1.NewBreakerAdminClient(conn).ForceBreaker(t.Context(), &astraguardv1.ForceBreakerRequest{
		Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "test the heuristic path", Ttl: durationpb.New(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	check("heuristic", astraguardv1.Source_SOURCE_HEURISTIC)
	// Forced open is an operator's decision, not a model fault.
	if code, body := readyzStatus(t, httpAddr); code != http.StatusOK {
		t.Errorf("/readyz with the breaker forced open = %d %q, want 200", code, body)
	}
}

func nan() float64         { return math.NaN() }
func inf(sign int) float64 { return math.Inf(sign) }
