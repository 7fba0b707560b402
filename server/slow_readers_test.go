package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestSlowReadersHoldTheBudget opens many streams that each send one
// request and never read. gRPC takes each response into its buffers at
// once, so before the fix the budget was given back and any number of
// such streams held memory; now each response stays charged to
// MaxQueuedBytes until it drains, so once the budget's admitted part is
// spent the other readers wait, their decoded requests counted in its
// waiting room, and astraguard_detect_held_bytes shows both, never more
// than the budget.
func TestSlowReadersHoldTheBudget(t *testing.T) {
	const streams, fit = 12, 4
	req := &astraguardv1.DetectRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{series(strings.Repeat("s", 64), 500)}}
	charge := requestCharge(req, decodedSize(req), responseBound(req.GetRequestId(), req.GetSeries(), req.GetFrames(), 256))
	budget := (fit*charge + charge/2) * waitingShare / (waitingShare - 1) // the admitted part fits fit and a half
	events := make(chan string, 4*streams)
	e := newTCPEnv(t, Config{MaxQueuedBytes: int(budget)}, tcpOptions{watchEnded: true, hooks: func(h *streamHooks) {
		h.sent = func(*time.Timer) { events <- "sent" }
		h.queueWait = func() { events <- "wait" }
	}})
	c, _ := e.client(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for range streams {
		stream, err := c.Detect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	sent, waits := 0, 0
	for sent+waits < streams {
		switch <-events {
		case "sent":
			sent++
		case "wait":
			waits++
		}
	}
	held := gathered(t, e.reg, "astraguard_detect_held_bytes")
	want := fit*charge + (streams-fit)*decodedSize(req)
	if sent != fit || waits != streams-fit || held != float64(want) || want > budget {
		t.Errorf("%d responses sent and unread, %d readers waiting, %v bytes held; want %d, %d and %d (%d per response, %d per waiting request, budget %d)",
			sent, waits, held, fit, streams-fit, want, charge, decodedSize(req), budget)
	}
	cancel()
	for range streams {
		if err := <-e.ended; status.Code(err) != codes.Canceled {
			t.Errorf("handler error = %v, want Canceled", err)
		}
	}
	e.srv.detect.wait()
	if got := e.srv.detect.queuedNow.Load(); got != 0 {
		t.Errorf("bytes held after every stream ended = %d, want 0", got)
	}
}

// gathered returns the value of the unlabelled gauge name in reg, as a
// scrape would see it.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s not registered", name)
	return 0
}
