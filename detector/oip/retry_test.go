package oip_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/gen/inference"
)

// flaky fails the first failures ModelInfer calls with code, then answers
// with a well-formed response of every sample scored 0.5, warm.
type flaky struct {
	inference.UnimplementedGRPCInferenceServiceServer
	code     codes.Code
	failures int64
	attempts atomic.Int64
}

func (f *flaky) ModelInfer(ctx context.Context, req *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	if f.attempts.Add(1) <= f.failures {
		if f.code == codes.DeadlineExceeded {
			<-ctx.Done() // a server that is too slow
		}
		return nil, status.Error(f.code, "injected")
	}
	return okResponse(len(req.GetInputs()[2].GetContents().GetFp64Contents())), nil
}

func okResponse(n int) *inference.ModelInferResponse {
	score, flags := make([]float64, n), make([]bool, n)
	for i := range score {
		score[i], flags[i] = 0.5, true
	}
	out := func(name, datatype string, c *inference.InferTensorContents) *inference.ModelInferResponse_InferOutputTensor {
		return &inference.ModelInferResponse_InferOutputTensor{Name: name, Datatype: datatype, Shape: []int64{int64(n)}, Contents: c}
	}
	return &inference.ModelInferResponse{Outputs: []*inference.ModelInferResponse_InferOutputTensor{
		out("score", "FP64", &inference.InferTensorContents{Fp64Contents: score}),
		out("anomaly", "BOOL", &inference.InferTensorContents{BoolContents: make([]bool, n)}),
		out("warm", "BOOL", &inference.InferTensorContents{BoolContents: flags}),
	}}
}

// retryBuf serves impl over bufconn and returns a conn with NewConn's
// service config (retry policy and throttling).
func retryBuf(t *testing.T, impl inference.GRPCInferenceServiceServer) *grpc.ClientConn {
	t.Helper()
	var l listener
	serveOn(t, &l, impl)
	return bufConn(t, &l, grpc.WithDefaultServiceConfig(oip.ServiceConfig))
}

// TestRetryByCode: gRPC resends UNAVAILABLE (3 attempts in all) and
// nothing else; the hand-written retry of Aborted and ResourceExhausted is
// gone.
func TestRetryByCode(t *testing.T) {
	tests := []struct {
		code         codes.Code
		failures     int64
		wantAttempts int64
		wantOK       bool
	}{
		{codes.Unavailable, 1, 2, true},
		{codes.Unavailable, 2, 3, true},
		{codes.Unavailable, 9, 3, false},
		{codes.Aborted, 9, 1, false},
		{codes.ResourceExhausted, 9, 1, false},
		{codes.InvalidArgument, 9, 1, false},
		{codes.Internal, 9, 1, false},
		{codes.Unknown, 9, 1, false},
		{codes.NotFound, 9, 1, false},
		{codes.FailedPrecondition, 9, 1, false},
		{codes.Unimplemented, 9, 1, false},
		{codes.DataLoss, 9, 1, false},
		{codes.PermissionDenied, 9, 1, false},
		{codes.Unauthenticated, 9, 1, false},
		{codes.Canceled, 9, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			f := &flaky{code: tt.code, failures: tt.failures}
			c := newClient(t, retryBuf(t, f), oip.Config{})
			b := batches([]string{"a", "b"}, 4, 4)[0]
			out := make([]detector.Prediction, count(b))
			err := c.Predict(t.Context(), b, out)
			if got := f.attempts.Load(); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Predict() = %v, want nil", err)
				}
				if out[0] != (detector.Prediction{Score: 0.5, Warm: true}) {
					t.Errorf("Predict() out[0] = %+v, want score 0.5 warm", out[0])
				}
				return
			}
			if got := status.Code(err); got != tt.code {
				t.Errorf("status.Code(Predict()) = %v, want %v (err %v)", got, tt.code, err)
			}
		})
	}
}

// TestRetryThrottled: against a model server that fails every call, the
// retry throttle stops the resends: the calls soon cost one attempt each.
func TestRetryThrottled(t *testing.T) {
	f := &flaky{code: codes.Unavailable, failures: 1 << 40}
	c := newClient(t, retryBuf(t, f), oip.Config{})
	b := batches([]string{"a"}, 1, 1)[0]
	const calls = 20
	for range calls {
		_ = c.Predict(t.Context(), b, make([]detector.Prediction, 1))
	}
	before := f.attempts.Load()
	_ = c.Predict(t.Context(), b, make([]detector.Prediction, 1))
	if got := f.attempts.Load() - before; got != 1 {
		t.Errorf("attempts of call %d = %d, want 1 (retries throttled)", calls+1, got)
	}
	if before >= 3*calls {
		t.Errorf("%d attempts for %d calls, want fewer than %d (throttled)", before, calls, 3*calls)
	}
}

func TestRetryDeadlineExceeded(t *testing.T) {
	f := &flaky{code: codes.DeadlineExceeded, failures: 9}
	c := newClient(t, retryBuf(t, f), oip.Config{})
	_ = c.CheckReady(t.Context()) // Unimplemented, but connects first
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	b := batches([]string{"a"}, 1, 1)[0]
	err := c.Predict(ctx, b, make([]detector.Prediction, 1))
	if got := status.Code(err); got != codes.DeadlineExceeded {
		t.Errorf("status.Code(Predict()) = %v, want DeadlineExceeded (err %v)", got, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false, want true", err)
	}
	// 0 when a loaded machine spends the whole deadline before the server
	// sees the call; never more than 1.
	if got := f.attempts.Load(); got > 1 {
		t.Errorf("attempts = %d, want at most 1", got)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := oip.New(nil, oip.Config{}); err == nil {
		t.Errorf("New(nil conn) = nil error, want error")
	}
}

// badResponse answers ModelInfer with resp(n).
type badResponse struct {
	inference.UnimplementedGRPCInferenceServiceServer
	resp func(n int) *inference.ModelInferResponse
}

func (b *badResponse) ModelInfer(_ context.Context, req *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	return b.resp(len(req.GetInputs()[2].GetContents().GetFp64Contents())), nil
}

func TestResponseValidation(t *testing.T) {
	edit := func(f func(r *inference.ModelInferResponse)) func(n int) *inference.ModelInferResponse {
		return func(n int) *inference.ModelInferResponse { r := okResponse(n); f(r); return r }
	}
	raw := func(n int) *inference.ModelInferResponse {
		r := okResponse(n)
		var score []byte
		for range n {
			score = binary.LittleEndian.AppendUint64(score, math.Float64bits(0.25))
		}
		flags := make([]byte, n)
		for i := range flags {
			flags[i] = 1
		}
		r.RawOutputContents = [][]byte{score, make([]byte, n), flags}
		for _, o := range r.Outputs {
			o.Contents = nil
		}
		return r
	}
	tests := []struct {
		name string
		resp func(n int) *inference.ModelInferResponse
		ok   bool
	}{
		{"well formed", okResponse, true},
		{"raw contents", raw, true},
		{"extra output", edit(func(r *inference.ModelInferResponse) {
			r.Outputs = append(r.Outputs, &inference.ModelInferResponse_InferOutputTensor{Name: "debug"})
		}), true},
		{"missing warm", edit(func(r *inference.ModelInferResponse) { r.Outputs = r.Outputs[:2] }), false},
		{"no outputs", edit(func(r *inference.ModelInferResponse) { r.Outputs = nil }), false},
		{"short score", edit(func(r *inference.ModelInferResponse) {
			r.Outputs[0].Contents.Fp64Contents = r.Outputs[0].Contents.Fp64Contents[1:]
		}), false},
		{"wrong datatype", edit(func(r *inference.ModelInferResponse) { r.Outputs[0].Datatype = "FP32" }), false},
		{"wrong shape", edit(func(r *inference.ModelInferResponse) { r.Outputs[1].Shape = []int64{1} }), false},
		// 7 × 7905747460161236407 × n is n modulo 2^64: a product that
		// wraps must not pass for n elements.
		{"shape product wraps", edit(func(r *inference.ModelInferResponse) {
			r.Outputs[1].Shape = []int64{7, 7905747460161236407, r.Outputs[1].Shape[0]}
		}), false},
		{"duplicate output", edit(func(r *inference.ModelInferResponse) { r.Outputs[1].Name = "score" }), false},
		{"raw short", edit(func(r *inference.ModelInferResponse) {
			r.RawOutputContents = [][]byte{{1}, {1}, {1}}
		}), false},
		{"raw count", edit(func(r *inference.ModelInferResponse) { r.RawOutputContents = [][]byte{{1}} }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fakeBuf(t, &badResponse{resp: tt.resp}), oip.Config{})
			b := batches([]string{"a", "b"}, 3, 3)[0]
			err := c.Predict(t.Context(), b, make([]detector.Prediction, count(b)))
			if tt.ok && err != nil {
				t.Errorf("Predict() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, oip.ErrBadResponse) {
				t.Errorf("Predict() = %v, want ErrBadResponse", err)
			}
		})
	}
}

// wrongLayout is a ready server whose model declares FP32 values.
type wrongLayout struct {
	inference.UnimplementedGRPCInferenceServiceServer
}

func (*wrongLayout) ServerReady(context.Context, *inference.ServerReadyRequest) (*inference.ServerReadyResponse, error) {
	return &inference.ServerReadyResponse{Ready: true}, nil
}

func (*wrongLayout) ModelReady(context.Context, *inference.ModelReadyRequest) (*inference.ModelReadyResponse, error) {
	return &inference.ModelReadyResponse{Ready: true}, nil
}

func (*wrongLayout) ModelMetadata(context.Context, *inference.ModelMetadataRequest) (*inference.ModelMetadataResponse, error) {
	t := func(name, datatype string) *inference.ModelMetadataResponse_TensorMetadata {
		return &inference.ModelMetadataResponse_TensorMetadata{Name: name, Datatype: datatype, Shape: []int64{-1}}
	}
	return &inference.ModelMetadataResponse{
		Inputs:  []*inference.ModelMetadataResponse_TensorMetadata{t("series_id", "BYTES"), t("timestamp", "INT64"), t("value", "FP32")},
		Outputs: []*inference.ModelMetadataResponse_TensorMetadata{t("score", "FP64"), t("anomaly", "BOOL"), t("warm", "BOOL")},
	}, nil
}
