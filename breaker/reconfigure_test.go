package breaker_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

func reconfigure(s breaker.Settings) step {
	return func(h *harness) {
		h.t.Helper()
		if err := h.b.Reconfigure(s); err != nil {
			h.t.Fatalf("Reconfigure(%+v) = %v", s, err)
		}
	}
}

func transitionsN(want int) step {
	return func(h *harness) {
		h.t.Helper()
		if got := len(h.transitions()); got != want {
			h.t.Fatalf("%d transitions %+v, want %d", got, h.transitions(), want)
		}
	}
}

func TestReconfigure(t *testing.T) {
	window := breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 10, FailureRatio: 0.5}}
	tests := []struct {
		name  string
		start breaker.Settings
		steps []tstep
	}{
		{"keeps the consecutive count", breaker.Settings{}, []tstep{
			{fail(3), C}, {reconfigure(breaker.Settings{FailureThreshold: 6}), C}, {transitionsN(0), C}, {fail(2), C}, {fail(1), O},
		}},
		{"a lower threshold trips on the counts kept", breaker.Settings{}, []tstep{
			{fail(4), C}, {reconfigure(breaker.Settings{FailureThreshold: 3}), O}, {reason(breaker.ReasonConsecutive), O},
		}},
		{"keeps an unchanged window", window, []tstep{
			{ok(6), C}, {fail(4), C}, {reconfigure(breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 10, FailureRatio: 0.6}}), C},
			{fail(1), C}, {fail(1), O}, {reason(breaker.ReasonCountRatio), O},
		}},
		{"a reshaped window starts empty", window, []tstep{
			{fail(4), C}, {reconfigure(breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 4, FailureRatio: 0.5}}), C},
			{ok(2), C}, {fail(1), C}, {fail(1), O},
		}},
		{"keeps an override and its expiry", breaker.Settings{}, []tstep{
			{forceOpen(time.Minute), O}, {reconfigure(breaker.Settings{FailureThreshold: 1}), O}, {forced(breaker.ForcedOpen), O},
			{rejected(breaker.ErrForcedOpen), O}, {advance(time.Minute), H}, {transitionsN(2), H},
		}},
		{"keeps the scheduled recovery wait", breaker.Settings{}, []tstep{
			{fail(5), O}, {reconfigure(breaker.Settings{RecoveryTimeout: time.Hour}), O}, {advance(time.Minute), H},
		}},
		{"restarts probing while half-open", breaker.Settings{}, []tstep{
			{fail(5), O}, {advance(time.Minute), H}, {hold(), H}, {reconfigure(breaker.Settings{SuccessThreshold: 1}), H},
			{finish(nil), H}, // dropped: measured under the old rules
			{ok(1), C},
		}},
		{"fast path to windows and back", breaker.Settings{}, []tstep{
			{fail(2), C}, {reconfigure(window), C}, {fail(3), C}, {ok(5), C}, {reconfigure(breaker.Settings{FailureThreshold: 2}), C},
			{fail(1), C}, {fail(1), O},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, tt.start, tt.steps)
		})
	}
}

func TestReconfigureInvalidChangesNothing(t *testing.T) {
	h := newHarness(t, breaker.Settings{FailureThreshold: 3})
	err := h.b.Reconfigure(breaker.Settings{CountWindow: breaker.CountWindow{Size: 10, FailureRatio: 2}})
	if !errors.Is(err, breaker.ErrInvalidSettings) {
		t.Fatalf("Reconfigure(bad) = %v, want ErrInvalidSettings", err)
	}
	if got := h.b.Settings().FailureThreshold; got != 3 {
		t.Fatalf("FailureThreshold after a refused Reconfigure = %d, want 3", got)
	}
}

// TestReconfigureHammer races Reconfigure against calls, for -race.
func TestReconfigureHammer(t *testing.T) {
	b, err := breaker.New("model", breaker.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	settings := []breaker.Settings{{}, {FailureThreshold: 2, CountWindow: breaker.CountWindow{Size: 8}, SlowCall: breaker.SlowCall{Duration: time.Millisecond}},
		{TimeWindow: breaker.TimeWindow{Length: time.Second}}, {FailureThreshold: 50, MaxProbes: 3}}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				tk, err := b.Allow()
				if err == nil {
					var cerr error
					if (i+g)%3 == 0 {
						cerr = errBoom
					}
					b.Done(tk, cerr)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			if err := b.Reconfigure(settings[i%len(settings)]); err != nil {
				t.Error(err)
			}
			if i%50 == 0 {
				b.Reset()
			}
		}
	})
	wg.Wait()
	s := b.Snapshot()
	if s.Totals.Successes+s.Totals.Failures+s.Totals.Rejected == 0 {
		t.Fatalf("no call counted: %+v", s.Totals)
	}
}

func runSteps(t *testing.T, s breaker.Settings, steps []tstep) {
	t.Helper()
	h := newHarness(t, s)
	for i, st := range steps {
		st.do(h)
		if got := h.b.State(); got != st.want {
			t.Fatalf("step %d: State() = %v, want %v (transitions %+v)", i, got, st.want, h.transitions())
		}
	}
}
