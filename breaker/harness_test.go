package breaker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

var errBoom = errors.New("boom")

// harness drives one breaker with a fake clock and records its transitions.
type harness struct {
	t       *testing.T
	b       *breaker.Breaker
	clock   *fakeClock
	held    []uint64 // tickets of calls still in flight, oldest first
	mu      sync.Mutex
	changes []breaker.Transition
}

func newHarness(t *testing.T, s breaker.Settings, opts ...breaker.Option) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock()}
	opts = append([]breaker.Option{breaker.WithClock(h.clock), breaker.WithObserver(h.observe)}, opts...)
	b, err := breaker.New("model", s, opts...)
	if err != nil {
		t.Fatalf("New(%+v) = %v", s, err)
	}
	h.b = b
	return h
}

func (h *harness) observe(tr breaker.Transition) {
	h.mu.Lock()
	h.changes = append(h.changes, tr)
	h.mu.Unlock()
}

func (h *harness) transitions() []breaker.Transition {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]breaker.Transition(nil), h.changes...)
}

func (h *harness) lastReason() string {
	tr := h.transitions()
	if len(tr) == 0 {
		return ""
	}
	return tr[len(tr)-1].Reason
}

// step is one action in a transition table.
type step func(h *harness)

func calls(n int, err error) step {
	return func(h *harness) {
		h.t.Helper()
		for i := range n {
			tk, aerr := h.b.Allow()
			if aerr != nil {
				h.t.Fatalf("call %d: Allow() = %v, want nil", i, aerr)
			}
			h.b.Done(tk, err)
		}
	}
}

func ok(n int) step   { return calls(n, nil) }
func fail(n int) step { return calls(n, errBoom) }

func advance(d time.Duration) step { return func(h *harness) { h.clock.Advance(d) } }

// rejected asserts Allow refuses with an error matching want.
func rejected(want error) step {
	return func(h *harness) {
		h.t.Helper()
		tk, err := h.b.Allow()
		if !errors.Is(err, want) || !errors.Is(err, breaker.ErrOpen) {
			h.b.Done(tk, nil)
			h.t.Fatalf("Allow() = %v, want %v (and ErrOpen)", err, want)
		}
	}
}

// hold starts a call and keeps its ticket for finish.
func hold() step {
	return func(h *harness) {
		h.t.Helper()
		tk, err := h.b.Allow()
		if err != nil {
			h.t.Fatalf("Allow() = %v, want nil", err)
		}
		h.held = append(h.held, tk)
	}
}

// finish ends the oldest held call with err.
func finish(err error) step {
	return func(h *harness) {
		tk := h.held[0]
		h.held = h.held[1:]
		h.b.Done(tk, err)
	}
}

func reason(want string) step {
	return func(h *harness) {
		h.t.Helper()
		if got := h.lastReason(); got != want {
			h.t.Fatalf("last transition reason = %q, want %q", got, want)
		}
	}
}

func nextProbeIn(want time.Duration) step {
	return func(h *harness) {
		h.t.Helper()
		s := h.b.Snapshot()
		if got := s.NextProbe.Sub(h.clock.Now()); got != want {
			h.t.Fatalf("NextProbe - now = %v, want %v", got, want)
		}
	}
}

// errIgnored is classified Ignored by the default classifier.
var errIgnored = context.Canceled
