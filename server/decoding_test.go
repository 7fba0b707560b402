package server

import (
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/protolimit"
	"github.com/astraguard/astraguard/internal/protolimit/protolimittest"
)

// decodeEstimate is what the codec's budget charges req's decode.
func decodeEstimate(t *testing.T, req proto.Message) int64 {
	t.Helper()
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := protolimit.Measure(b, req, decodedBound(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDecodesBoundedAtOnce: concurrent requests are decoded at most a
// decoding budget (half of MaxQueuedBytes, as the waiting room) at once;
// the others wait in the codec, then are answered, never failed as
// INTERNAL. Before, gRPC decoded every RPC at once, however many: 30
// requests of 400,000 empty series, each within the decoded bound, took
// the server to 1.2 GB.
func TestDecodesBoundedAtOnce(t *testing.T) {
	const calls, fit = 6, 2
	req := &astraguardv1.DetectBatchRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{series("s", 1000)}}
	est := decodeEstimate(t, req)
	bound := fit*est + est/2 // room for two decodes, not three
	gate := protolimittest.NewGate(t, calls)
	e := newTCPEnv(t, Config{MaxQueuedBytes: int(2 * bound)}, tcpOptions{hooks: func(h *streamHooks) {
		h.decoding, h.decodeWait = gate.Held, gate.Wait
	}})
	c, _ := e.client(t)
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := c.DetectBatch(t.Context(), req)
			errs <- err
		}()
	}
	gate.Await(t, calls, fit, bound, errs)
	gate.Open()
	for range calls {
		err := <-errs
		if c := status.Code(err); c != codes.OK && c != codes.ResourceExhausted { // the waiting room may refuse some
			t.Errorf("DetectBatch = %v, want answered (or refused by the waiting room)", err)
		}
	}
	if m := gate.Max(); m > bound {
		t.Errorf("at most %d bytes decoding at once, want at most %d", m, bound)
	}
	if got := gathered(t, e.reg, "astraguard_decoding_bytes"); got != 0 {
		t.Errorf("astraguard_decoding_bytes after every call = %v, want 0", got)
	}
}

// TestDecodeLargerThanBudgetAlone: a request whose estimate exceeds the
// whole decoding budget is decoded alone and answered, not refused for
// its size (nor left waiting for room that can never be).
func TestDecodeLargerThanBudgetAlone(t *testing.T) {
	req := &astraguardv1.DetectBatchRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{series("s", 1000)}}
	var (
		mu   sync.Mutex
		held []int64
	)
	e := newTCPEnv(t, Config{MaxQueuedBytes: int(decodeEstimate(t, req))}, tcpOptions{hooks: func(h *streamHooks) {
		h.decoding = func(n int64) {
			mu.Lock()
			defer mu.Unlock()
			held = append(held, n)
		}
	}})
	c, _ := e.client(t)
	resp, err := c.DetectBatch(t.Context(), req)
	if err != nil || len(resp.GetVerdicts()) != 1000 {
		t.Fatalf("DetectBatch(larger than the decoding budget) = %d verdicts, %v; want 1000", len(resp.GetVerdicts()), err)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, waiting := splitQueued(int(decodeEstimate(t, req))); len(held) != 1 || held[0] != waiting {
		t.Errorf("decoding held %v, want the whole budget once: [%d]", held, waiting)
	}
}
