package breaker_test

import (
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

// TestRatioRulesTripAtExactRatio ports the boundary cases of gobreaker's,
// resilience4j's and failsafe-go's suites: failures/calls equal to the
// configured ratio trips, one failure fewer does not.
func TestRatioRulesTripAtExactRatio(t *testing.T) {
	tests := []struct {
		name      string
		s         breaker.Settings
		fails, of int
		slow      bool
	}{
		{"count 25 ratio 0.56", breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 25, FailureRatio: 0.56}}, 14, 25, false},
		{"count 10 ratio 0.3", breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 10, FailureRatio: 0.3}}, 3, 10, false},
		{"count 100 ratio 0.07", breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 100, FailureRatio: 0.07}}, 7, 100, false},
		{"time 25 calls ratio 0.56", breaker.Settings{FailureThreshold: -1,
			TimeWindow: breaker.TimeWindow{Length: time.Minute, MinCalls: 25, FailureRatio: 0.56}}, 14, 25, false},
		{"slow ratio 0.56", breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 25, FailureRatio: 1},
			SlowCall: breaker.SlowCall{Duration: time.Second, Ratio: 0.56}}, 14, 25, true},
	}
	for _, tt := range tests {
		for _, fails := range []int{tt.fails - 1, tt.fails} {
			t.Run(tt.name, func(t *testing.T) {
				h := newHarness(t, tt.s)
				for i := range tt.of {
					tk, err := h.b.Allow()
					if err != nil {
						t.Fatalf("call %d: Allow() = %v", i, err)
					}
					bad := i < fails
					if tt.slow && bad {
						h.clock.Advance(time.Second)
					}
					var cerr error
					if bad && !tt.slow {
						cerr = errBoom
					}
					h.b.Done(tk, cerr)
				}
				want := breaker.StateClosed
				if fails == tt.fails {
					want = breaker.StateOpen
				}
				if got := h.b.State(); got != want {
					t.Fatalf("after %d bad of %d: State() = %v, want %v", fails, tt.of, got, want)
				}
			})
		}
	}
}

// TestForceSameStateTwicePublishesNothing: forcing the override already in
// force (or resetting a plain CLOSED breaker) is no transition, so watchers
// and the transition metrics see no OPEN->OPEN or CLOSED->CLOSED.
func TestForceSameStateTwicePublishesNothing(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  int // transitions published
	}{
		{"force open twice", []step{forceOpen(0), forceOpen(time.Minute)}, 1},
		{"force closed twice", []step{forceClosed(0), forceClosed(time.Minute)}, 1},
		{"reset while closed", []step{reset(), reset()}, 0},
		{"trip then force open", []step{fail(5), forceOpen(0)}, 2}, // OPEN to forced OPEN is an override change
		{"force closed then open", []step{forceClosed(0), forceOpen(0), forceOpen(0)}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, breaker.Settings{})
			for _, s := range tt.steps {
				s(h)
			}
			tr := h.transitions()
			if len(tr) != tt.want {
				t.Fatalf("transitions = %+v, want %d", tr, tt.want)
			}
			for _, x := range tr {
				if x.From == x.To && x.Forced == breaker.ForceNone {
					t.Errorf("transition %v -> %v without an override change", x.From, x.To)
				}
			}
		})
	}
}

// TestForceAgainUpdatesReasonAndTTL: the repeated force is not lost, only
// its transition: reason and expiry follow the latest call.
func TestForceAgainUpdatesReasonAndTTL(t *testing.T) {
	h := newHarness(t, breaker.Settings{})
	h.b.ForceOpen("first", 0)
	h.b.ForceOpen("second", time.Minute)
	if s := h.b.Snapshot(); s.ForceReason != "second" {
		t.Fatalf("ForceReason = %q, want second", s.ForceReason)
	}
	h.clock.Advance(time.Minute)
	if got := h.b.State(); got != breaker.StateHalfOpen {
		t.Fatalf("State() after the second force's ttl = %v, want HALF_OPEN", got)
	}
}
