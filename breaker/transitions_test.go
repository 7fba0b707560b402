package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

// Each case runs steps in order; after each step the state must be the
// step's want.
type tstep struct {
	do   step
	want breaker.State
}

const (
	C = breaker.StateClosed
	O = breaker.StateOpen
	H = breaker.StateHalfOpen
)

func TestTransitions(t *testing.T) {
	countWin := breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 10, MinCalls: 6, FailureRatio: 0.5}}
	timeWin := breaker.Settings{FailureThreshold: -1, TimeWindow: breaker.TimeWindow{Length: 10 * time.Second, Buckets: 10, MinCalls: 4}}
	slow := breaker.Settings{FailureThreshold: -1, CountWindow: breaker.CountWindow{Size: 4}, SlowCall: breaker.SlowCall{Duration: time.Second, Ratio: 0.5}}
	tests := []struct {
		name  string
		s     breaker.Settings
		steps []tstep
	}{
		{"below threshold stays closed", breaker.Settings{}, []tstep{{fail(4), C}}},
		{"consecutive failures trip", breaker.Settings{}, []tstep{{fail(4), C}, {fail(1), O}, {reason(breaker.ReasonConsecutive), O}}},
		{"success resets the run", breaker.Settings{}, []tstep{{fail(4), C}, {ok(1), C}, {fail(4), C}, {fail(1), O}}},
		{"ignored neither counts nor resets", breaker.Settings{}, []tstep{{fail(4), C}, {calls(3, context.Canceled), C}, {fail(1), O}}},
		{"open rejects until recovery", breaker.Settings{}, []tstep{
			{fail(5), O}, {nextProbeIn(60 * time.Second), O}, {advance(59 * time.Second), O}, {rejected(breaker.ErrOpen), O},
			{advance(time.Second), H}, {reason(breaker.ReasonRecoveryWait), H},
		}},
		{"probes close after SuccessThreshold", breaker.Settings{}, []tstep{
			{fail(5), O}, {advance(time.Minute), H}, {ok(1), H}, {ok(1), C}, {reason(breaker.ReasonProbesOK), C},
			{fail(4), C}, {fail(1), O}, // fresh counts after closing
		}},
		{"one probe at a time by default", breaker.Settings{}, []tstep{
			{fail(5), O}, {advance(time.Minute), H}, {hold(), H}, {rejected(breaker.ErrTooManyProbes), H},
			{finish(nil), H}, {ok(1), C},
		}},
		{"MaxProbes concurrent probes", breaker.Settings{MaxProbes: 2, SuccessThreshold: 3}, []tstep{
			{fail(5), O}, {advance(time.Minute), H}, {hold(), H}, {hold(), H}, {rejected(breaker.ErrTooManyProbes), H},
			{finish(nil), H}, {hold(), H}, {finish(nil), H}, {finish(nil), C},
		}},
		{"probe failure reopens", breaker.Settings{}, []tstep{
			{fail(5), O}, {advance(time.Minute), H}, {ok(1), H}, {fail(1), O}, {reason(breaker.ReasonProbeFailed), O},
			{nextProbeIn(time.Minute), O}, {rejected(breaker.ErrOpen), O},
		}},
		{"ignored probe returns its permit", breaker.Settings{}, []tstep{
			{fail(5), O}, {advance(time.Minute), H}, {calls(3, context.Canceled), H}, {ok(2), C},
		}},
		{"stale outcome is dropped", breaker.Settings{}, []tstep{
			{hold(), C}, {fail(5), O}, {advance(time.Minute), H}, {finish(errBoom), H}, {ok(2), C},
		}},
		{"strict preset", mustPreset(t, breaker.PresetStrict), []tstep{
			{fail(1), C}, {fail(1), O}, {advance(10 * time.Second), H}, {ok(1), C},
		}},
		{"count window below MinCalls", countWin, []tstep{{fail(5), C}}},
		{"count window ratio trips", countWin, []tstep{
			{ok(3), C}, {fail(2), C}, {fail(1), O}, {reason(breaker.ReasonCountRatio), O},
		}},
		{"count window forgets old calls", countWin, []tstep{
			{ok(6), C}, {fail(2), C}, {ok(10), C}, {fail(4), C}, {fail(1), O},
		}},
		{"time window ratio trips", timeWin, []tstep{
			{ok(2), C}, {fail(1), C}, {fail(1), O}, {reason(breaker.ReasonTimeRatio), O},
		}},
		{"time window forgets old calls", timeWin, []tstep{
			{fail(3), C}, {advance(11 * time.Second), C}, {ok(3), C}, {fail(1), C}, {fail(2), O},
		}},
		{"slow call ratio trips", slow, []tstep{
			{ok(2), C}, {hold(), C}, {hold(), C}, {advance(time.Second), C}, {finish(nil), C}, {finish(nil), O},
			{reason(breaker.ReasonSlowRatio), O},
		}},
		{"fast calls are not slow", slow, []tstep{
			{hold(), C}, {advance(999 * time.Millisecond), C}, {finish(nil), C}, {ok(3), C}, {ok(10), C},
		}},
		{"slow probe reopens", slow, []tstep{
			{fail(4), O}, {advance(time.Minute), H}, {hold(), H}, {advance(2 * time.Second), H}, {finish(nil), O},
			{reason(breaker.ReasonProbeSlow), O},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.s)
			for i, st := range tt.steps {
				st.do(h)
				if got := h.b.State(); got != st.want {
					t.Fatalf("step %d: State() = %v, want %v (transitions %+v)", i, got, st.want, h.transitions())
				}
			}
		})
	}
}

func mustPreset(t *testing.T, name string) breaker.Settings {
	s, err := breaker.Preset(name)
	if err != nil {
		t.Fatalf("Preset(%q) = %v", name, err)
	}
	return s
}
