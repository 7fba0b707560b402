package server

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// holdScorer holds the Score calls of batches whose first series is
// "hold" until open is closed, and tells entered about each; other
// batches are scored at once.
type holdScorer struct {
	halfScorer
	entered chan struct{}
	open    chan struct{}
}

func (h holdScorer) Score(ctx context.Context, dst []detector.Verdict, groups []detector.Group) []detector.Verdict {
	if len(groups) > 0 && groups[0].SeriesID == "hold" {
		h.entered <- struct{}{}
		select {
		case <-h.open:
		case <-ctx.Done():
		}
	}
	return h.halfScorer.Score(ctx, dst, groups)
}

func newHoldScorer() holdScorer {
	return holdScorer{entered: make(chan struct{}, 16), open: make(chan struct{})}
}

// TestDecodedRequestsCountedOrRefused: a request gRPC has decoded counts
// against MaxQueuedBytes while it waits for room, and one that does not
// fit the budget's waiting room is refused with RESOURCE_EXHAUSTED
// naming the limit, so the bytes held never pass the budget however many
// streams send. Before, each waiting reader held its decoded request
// outside the budget: 300 streams of 22,000-sample requests held about
// 740 MB at a 256 MiB budget.
func TestDecodedRequestsCountedOrRefused(t *testing.T) {
	const streams, waitingFit = 6, 2
	req := &astraguardv1.DetectRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{series("hold", 200)}}
	decoded := decodedSize(req)
	// The waiting room (half) takes 2.5 decoded requests; the admitted
	// part is smaller than one request's charge, which then takes all of
	// it (held alone).
	budget := 5 * decoded
	if requestCharge(req, decodedSize(req), responseBound("r", req.GetSeries(), nil, 256)) <= budget {
		t.Fatal("the test needs a request whose charge is larger than the budget")
	}
	waits := make(chan struct{}, streams)
	hold := newHoldScorer()
	e := newTCPEnv(t, Config{MaxQueuedBytes: int(budget)}, tcpOptions{watchEnded: true, scorer: hold, hooks: func(h *streamHooks) {
		h.queueWait = func() { waits <- struct{}{} }
	}})
	c, _ := e.client(t)
	send := func() astraguardv1.DetectorService_DetectClient {
		stream, err := c.Detect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		return stream
	}
	clients := []astraguardv1.DetectorService_DetectClient{send()}
	<-hold.entered // the first request is admitted, and held in Score
	for range streams - 1 {
		clients = append(clients, send())
	}
	// Every other stream either waits for room, its request counted, or
	// is refused.
	waited, refused := 0, 0
	for waited+refused < streams-1 {
		select {
		case <-waits:
			waited++
		case err := <-e.ended:
			if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), LimitQueuedBytes) {
				t.Fatalf("a stream ended with %v before any answer, want RESOURCE_EXHAUSTED naming %q", err, LimitQueuedBytes)
			}
			refused++
		}
	}
	if waited != waitingFit || refused != streams-1-waitingFit {
		t.Errorf("%d streams wait for room and %d were refused; want %d waiting (what the waiting room holds) and %d refused",
			waited, refused, waitingFit, streams-1-waitingFit)
	}
	admitted, _ := splitQueued(int(budget))
	held := gathered(t, e.reg, "astraguard_detect_held_bytes")
	if want := admitted + waitingFit*decoded; held != float64(want) || want > budget {
		t.Errorf("held %v bytes with one request admitted and %d waiting; want %d (admitted part %d, %d per decoded request), at most the budget %d",
			held, waitingFit, want, admitted, decoded, budget)
	}

	close(hold.open)
	answered, refusals := 0, 0
	for i, stream := range clients {
		ids, err := recvAll(t, stream)
		switch {
		case err == nil && len(ids) == 1:
			answered++
		case status.Code(err) == codes.ResourceExhausted && len(ids) == 0:
			refusals++
		default:
			t.Errorf("stream %d: answers %q, error %v; want one answer or a refusal", i, ids, err)
		}
	}
	if answered != 1+waited || refusals != refused {
		t.Errorf("%d streams answered, %d refused; want %d and %d", answered, refusals, 1+waited, refused)
	}
	for range answered {
		if err := <-e.ended; err != nil {
			t.Errorf("handler error = %v", err)
		}
	}
	if got := e.srv.detect.queuedNow.Load(); got != 0 {
		t.Errorf("bytes held after every stream ended = %d, want 0", got)
	}
}

// TestDetectBatchWaitsForTheBudget: a DetectBatch request holds its
// charge of MaxQueuedBytes while it is scored, so one that finds the
// budget spent waits for room (here until its caller gives up) instead
// of being scored beside it; before, unary requests were never counted.
func TestDetectBatchWaitsForTheBudget(t *testing.T) {
	hold := newHoldScorer()
	waits := make(chan struct{}, 4)
	req := &astraguardv1.DetectRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{series("hold", 200)}}
	budget := 5 * decodedSize(req) // one request's charge takes all of the admitted part
	e := newTCPEnv(t, Config{MaxQueuedBytes: int(budget)}, tcpOptions{watchEnded: true, scorer: hold, hooks: func(h *streamHooks) {
		h.queueWait = func() { waits <- struct{}{} }
	}})
	c, _ := e.client(t)
	stream, err := c.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	<-hold.entered
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.DetectBatch(ctx, &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("free", 200)}})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("DetectBatch = %v with the budget spent, want it to wait for room", err)
	case <-waits:
	}
	cancel()
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Errorf("DetectBatch after its caller gave up = %v, want Canceled", err)
	}
	close(hold.open)
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if ids, err := recvAll(t, stream); err != nil || len(ids) != 1 {
		t.Errorf("the stream's answers = %q, %v; want one", ids, err)
	}
	<-e.ended
	resp, err := c.DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("free", 200)}})
	if err != nil || len(resp.GetVerdicts()) != 200 {
		t.Errorf("DetectBatch with room = %d verdicts, %v; want 200", len(resp.GetVerdicts()), err)
	}
	e.srv.grpc.GracefulStop() // the cancelled call's handler may still be running: wait for it
	if got := e.srv.detect.queuedNow.Load(); got != 0 {
		t.Errorf("bytes held after every call ended = %d, want 0", got)
	}
}

// TestRoom: the waiting room takes what fits, and a request of any size
// alone when it is empty.
func TestRoom(t *testing.T) {
	r := newRoom(10)
	if !r.take(25) {
		t.Fatal("an empty room refused a request larger than itself; want it held alone")
	}
	if r.take(1) {
		t.Error("a room over its size took more")
	}
	r.release(25)
	if !r.take(6) || r.take(5) || !r.take(4) {
		t.Error("a room of 10 holding 6: want 5 refused and 4 taken")
	}
}
