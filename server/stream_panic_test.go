package server

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/testkit"
)

// panicScorer panics on the series "boom" and scores the rest as halfScorer.
type panicScorer struct{ halfScorer }

func (p panicScorer) Score(ctx context.Context, dst []detector.Verdict, groups []detector.Group) []detector.Verdict {
	for _, g := range groups {
		if g.SeriesID == "boom" {
			panic("scorer exploded")
		}
	}
	return p.halfScorer.Score(ctx, dst, groups)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer = testkit.SyncBuffer

// TestDetectPanicEndsStreamWithInternal panics in a stream's answerer
// (scoring) and in its reader (admission): the stream answers what came
// before, ends with INTERNAL without the panic value, the stack reaches the
// log, and the server goes on serving other streams. goleak (TestMain)
// checks that no stream goroutine is left behind.
func TestDetectPanicEndsStreamWithInternal(t *testing.T) {
	tests := []struct {
		name  string
		bad   *astraguardv1.DetectRequest
		hooks func(h *streamHooks)
	}{
		{"answerer", &astraguardv1.DetectRequest{RequestId: "bad", Series: []*astraguardv1.SeriesSamples{series("boom", 1)}}, nil},
		{"reader", &astraguardv1.DetectRequest{RequestId: "bad", Series: []*astraguardv1.SeriesSamples{series("a", 1)}},
			func(h *streamHooks) {
				var reads atomic.Int32
				h.inFlight = func(int) {
					if reads.Add(1) == 2 { // the first stream's second request
						panic("reader exploded")
					}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			e := newTCPEnv(t, Config{}, tcpOptions{
				scorer: panicScorer{},
				hooks:  tt.hooks,
				opts:   []Option{WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))},
			})
			c, _ := e.client(t)
			stream, err := c.Detect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(&astraguardv1.DetectRequest{RequestId: "good", Series: []*astraguardv1.SeriesSamples{series("a", 1)}}); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(tt.bad); err != nil {
				t.Fatal(err)
			}
			ids, err := recvAll(t, stream)
			if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" || len(ids) != 0 {
				t.Errorf("after a panic: answers %q, status %v %q; want none, Internal %q", ids, st.Code(), st.Message(), "internal error")
			}
			if got := logs.String(); !strings.Contains(got, "handler panicked") || !strings.Contains(got, "exploded") || !strings.Contains(got, "goroutine") {
				t.Errorf("log lacks the panic and its stack:\n%s", got)
			}

			other, err := c.Detect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if err := other.Send(&astraguardv1.DetectRequest{RequestId: "after", Series: []*astraguardv1.SeriesSamples{series("b", 1)}}); err != nil {
				t.Fatal(err)
			}
			if err := other.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if ids, err := recvAll(t, other); err != nil || len(ids) != 1 {
				t.Errorf("next stream: answers %q, error %v; want 1 answer and a clean end", ids, err)
			}
		})
	}
}
