package oip_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/modelserver"
)

// TestRetryDoesNotDoubleApply loses the answers to some ModelInfer calls
// after the model server applied them (as a connection that breaks on the
// way back does: the client sees UNAVAILABLE), so the client resends them.
// The stateful model must still have learned every sample exactly once:
// every prediction, including those of later batches, equals an
// in-process model's fed each batch once.
func TestRetryDoesNotDoubleApply(t *testing.T) {
	var lost, applied atomic.Int64
	loseEveryThird := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if info.FullMethod == "/inference.GRPCInferenceService/ModelInfer" && err == nil && applied.Add(1)%3 == 1 {
			lost.Add(1)
			return nil, status.Error(codes.Unavailable, "answer lost after the model applied the request")
		}
		return resp, err
	}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(grpc.UnaryInterceptor(loseEveryThird))
	inference.RegisterGRPCInferenceServiceServer(srv, newModelServer(t, modelserver.Config{}))
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	var l listener
	l.cur.Store(lis)
	c := newClient(t, bufConn(t, &l, grpc.WithDefaultServiceConfig(oip.ServiceConfig)), oip.Config{})

	ref := newRef(t)
	warm := 0
	for k, b := range batches([]string{"sat1/voltage", "sat2/voltage"}, 400, 40) {
		n := count(b)
		got, want := make([]detector.Prediction, n), make([]detector.Prediction, n)
		if err := c.Predict(t.Context(), b, got); err != nil {
			t.Fatalf("batch %d: Predict() = %v, want the resent call answered", k, err)
		}
		if err := ref.Predict(t.Context(), b, want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("batch %d: Predict() mismatch (-learned once +remote), the model learned a resent batch twice:\n%s", k, diff)
		}
		for _, p := range got {
			if p.Warm {
				warm++
			}
		}
	}
	if lost.Load() == 0 || warm == 0 {
		t.Errorf("%d answers lost, %d warm predictions; want both > 0 for the test to mean anything", lost.Load(), warm)
	}
}
