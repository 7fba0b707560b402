package server

import (
	"context"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// gateScorer holds every Score call until open is closed.
type gateScorer struct {
	halfScorer
	open chan struct{}
}

func (g gateScorer) Score(ctx context.Context, dst []detector.Verdict, groups []detector.Group) []detector.Verdict {
	select {
	case <-g.open:
	case <-ctx.Done():
	}
	return g.halfScorer.Score(ctx, dst, groups)
}

// TestQueuedBytesBoundAcrossStreams holds every answerer in Score while
// three streams send five requests each. Each stream alone may hold all
// five (QueueDepth 4 plus the one being answered), but MaxQueuedBytes
// allows four requests over all streams: the readers must wait, and the
// bytes held must never pass the budget. Then everything is answered and
// the budget is given back.
func TestQueuedBytesBoundAcrossStreams(t *testing.T) {
	const streams, perStream, budgetRequests = 3, 5, 4
	req := &astraguardv1.DetectRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{series("a", 10)}}
	weight := requestCharge(req, decodedSize(req), responseBound(req.GetRequestId(), req.GetSeries(), req.GetFrames(), 256))
	budget := budgetRequests * weight

	var (
		mu      sync.Mutex
		maxHeld int64
	)
	events := make(chan string, streams*perStream*4)
	gate := gateScorer{open: make(chan struct{})}
	e := newTCPEnv(t, Config{MaxQueuedBytes: int(budget)}, tcpOptions{watchEnded: true, scorer: gate, hooks: func(h *streamHooks) {
		h.inFlight = func(int) { events <- "read" }
		h.queueWait = func() { events <- "wait" }
		h.queued = func(held int64) {
			mu.Lock()
			defer mu.Unlock()
			maxHeld = max(maxHeld, held)
		}
	}})
	c, _ := e.client(t)
	var clients []astraguardv1.DetectorService_DetectClient
	for range streams {
		stream, err := c.Detect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for range perStream {
			if err := stream.Send(proto.Clone(req).(*astraguardv1.DetectRequest)); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, stream)
	}
	// With the budget, each reader ends up waiting for room; without it,
	// every request would be read and held.
	reads, waits := 0, 0
	for waits < streams && reads < streams*perStream {
		switch <-events {
		case "read":
			reads++
		case "wait":
			waits++
		}
	}
	mu.Lock()
	held := maxHeld
	mu.Unlock()
	if waits != streams || held > budget {
		t.Errorf("held up to %d bytes (%d requests of %d) with %d readers waiting; want <= %d bytes and %d waiting",
			held, held/weight, weight, waits, budget, streams)
	}

	close(gate.open)
	for i, stream := range clients {
		if ids, err := recvAll(t, stream); err != nil || len(ids) != perStream {
			t.Errorf("stream %d: %d answers, error %v; want %d and a clean end", i, len(ids), err, perStream)
		}
	}
	for range streams {
		if err := <-e.ended; err != nil {
			t.Errorf("handler error = %v", err)
		}
	}
	if got := e.srv.detect.queuedNow.Load(); got != 0 {
		t.Errorf("queued bytes after every stream ended = %d, want 0", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if maxHeld > budget {
		t.Errorf("held up to %d bytes, want <= %d", maxHeld, budget)
	}
}

// TestQueuedBytesReleasedWhenStreamCut ends streams with requests still
// queued: what they held must come back, or the budget would shrink with
// every abandoned stream until no stream could be answered.
func TestQueuedBytesReleasedWhenStreamCut(t *testing.T) {
	req := &astraguardv1.DetectRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{series("a", 10)}}
	queued := make(chan int64, 16)
	gate := gateScorer{open: make(chan struct{})} // never opened: answers wait for the cut
	e := newTCPEnv(t, Config{}, tcpOptions{watchEnded: true, scorer: gate, hooks: func(h *streamHooks) {
		h.queued = func(held int64) { queued <- held }
	}})
	c, _ := e.client(t)
	ctx, cancel := context.WithCancel(t.Context())
	stream, err := c.Detect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		<-queued
	}
	cancel()
	if err := <-e.ended; status.Code(err) != codes.Canceled {
		t.Errorf("handler error = %v, want Canceled", err)
	}
	e.srv.detect.wait()
	if got := e.srv.detect.queuedNow.Load(); got != 0 {
		t.Errorf("queued bytes after the stream was cut = %d, want 0", got)
	}
}

// TestDefaultMessageSizeFitsMaxSamples: the default MaxRecvMsgBytes must
// take a full request of MaxSamplesPerRequest samples in the columnar
// shape with timestamps, and in the frame shape with short channel names.
func TestDefaultMessageSizeFitsMaxSamples(t *testing.T) {
	limit := Config{}.withDefaults().MaxRecvMsgBytes
	n := defaults.MaxSamplesPerRequest
	s := &astraguardv1.SeriesSamples{SeriesId: "sat1/voltage", UnixNanos: make([]int64, n), Values: make([]float64, n)}
	for i := range n {
		s.UnixNanos[i], s.Values[i] = 1_764_158_400_000_000_000+int64(i)*1e6, 8.1
	}
	columnar := &astraguardv1.DetectRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{s}}
	var frames []*astraguardv1.Frame
	for i := range n / 100 {
		f := &astraguardv1.Frame{Source: "sat1", UnixNanos: 1_764_158_400_000_000_000 + int64(i)*1e9}
		for range 100 {
			f.Channels = append(f.Channels, &astraguardv1.Channel{Name: "voltage_bus_a", Value: 8.1})
		}
		frames = append(frames, f)
	}
	framed := &astraguardv1.DetectRequest{RequestId: "r", Frames: frames}
	for name, req := range map[string]*astraguardv1.DetectRequest{"columnar": columnar, "frames": framed} {
		if size := proto.Size(req); size > limit {
			t.Errorf("%s request of %d samples is %d bytes, more than the default MaxRecvMsgBytes %d", name, n, size, limit)
		} else {
			t.Logf("%s request of %d samples: %d bytes of %d", name, n, size, limit)
		}
	}
}
