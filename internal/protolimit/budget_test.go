package protolimit

import (
	"strings"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/protolimit/protolimittest"
)

// budgetRequest is a request of n empty tensors, and its estimate.
func budgetRequest(t *testing.T, n int) ([]byte, int64) {
	t.Helper()
	req := &inference.ModelInferRequest{ModelName: "m", Inputs: make([]*inference.ModelInferRequest_InferInputTensor, n)}
	for i := range req.Inputs {
		req.Inputs[i] = &inference.ModelInferRequest_InferInputTensor{}
	}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	est, err := Measure(b, req, maxDecoded)
	if err != nil {
		t.Fatal(err)
	}
	return b, est
}

// TestCodecBudgetBoundsDecodesAtOnce: with WithBudget, concurrent decodes
// hold at most the budget; the others wait in Unmarshal, then decode
// without error. Without it every decode ran at once.
func TestCodecBudgetBoundsDecodesAtOnce(t *testing.T) {
	const calls, fit = 6, 2
	b, est := budgetRequest(t, 1000)
	size := fit*est + est/2 // room for two decodes, not three
	gate := protolimittest.NewGate(t, calls)
	budget := NewBudget(size, WithHeld(gate.Held), WithWait(gate.Wait))
	c := Codec(maxDecoded, WithBudget(budget))
	errs := make(chan error, calls)
	for range calls {
		go func() {
			errs <- c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, new(inference.ModelInferRequest))
		}()
	}
	gate.Await(t, calls, fit, size, errs)
	if got := budget.Held(); got != fit*est {
		t.Errorf("Held() with %d decodes running = %d, want %d", fit, got, fit*est)
	}
	gate.Open()
	for range calls {
		if err := <-errs; err != nil {
			t.Errorf("Unmarshal = %v, want decoded once there was room", err)
		}
	}
	if got := budget.Held(); got != 0 {
		t.Errorf("Held() after every decode = %d, want 0", got)
	}
}

// TestBudgetLargerThanWhole: a message estimated larger than the whole
// budget takes all of it and is decoded alone, not refused for its size;
// one over maxDecoded is refused and holds nothing; a nil budget admits.
func TestBudgetLargerThanWhole(t *testing.T) {
	b, est := budgetRequest(t, 100)
	budget := NewBudget(est / 2)
	buf, held, err := budget.Admit(mem.BufferSlice{mem.SliceBuffer(b)}, new(inference.ModelInferRequest), maxDecoded)
	if err != nil || held != est/2 || budget.Held() != est/2 {
		t.Fatalf("Admit(%d-byte estimate, budget %d) = held %d (Held %d), %v; want the whole budget", est, est/2, held, budget.Held(), err)
	}
	if _, ok := budget.TryAcquire(1); ok {
		t.Errorf("TryAcquire(1) while a decode holds the whole budget succeeded")
	}
	buf.Free()
	budget.Release(held)
	if budget.Held() != 0 {
		t.Errorf("Held() after Release = %d, want 0", budget.Held())
	}
	_, held, err = budget.Admit(mem.BufferSlice{mem.SliceBuffer(b)}, new(inference.ModelInferRequest), est-1)
	if err == nil || !strings.Contains(err.Error(), "decodes to more than") || held != 0 || budget.Held() != 0 {
		t.Errorf("Admit(over maxDecoded) = held %d (Held %d), %v; want refused, holding nothing", held, budget.Held(), err)
	}
	var none *Budget
	buf, held, err = none.Admit(mem.BufferSlice{mem.SliceBuffer(b)}, new(inference.ModelInferRequest), maxDecoded)
	if err != nil || held != 0 {
		t.Fatalf("nil Budget Admit = %d, %v; want admitted, holding nothing", held, err)
	}
	buf.Free()
	none.Release(held)
}
