package breaker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

func forceOpen(ttl time.Duration) step { return func(h *harness) { h.b.ForceOpen("maintenance", ttl) } }
func forceClosed(ttl time.Duration) step {
	return func(h *harness) { h.b.ForceClosed("incident 42", ttl) }
}
func clearForce() step { return func(h *harness) { h.b.ClearForce() } }
func reset() step      { return func(h *harness) { h.b.Reset() } }

func forced(want breaker.Force) step {
	return func(h *harness) {
		h.t.Helper()
		if got := h.b.Snapshot().Forced; got != want {
			h.t.Fatalf("Snapshot().Forced = %v, want %v", got, want)
		}
	}
}

func TestOperatorOverrides(t *testing.T) {
	tests := []struct {
		name  string
		steps []tstep
	}{
		{"force open rejects until ttl then probes", []tstep{
			{forceOpen(time.Minute), O}, {forced(breaker.ForcedOpen), O}, {rejected(breaker.ErrForcedOpen), O},
			{advance(59 * time.Second), O}, {rejected(breaker.ErrForcedOpen), O},
			{advance(time.Second), H}, {forced(breaker.ForceNone), H}, {reason(breaker.ReasonForceExpired), H}, {ok(2), C},
		}},
		{"force open without ttl lasts", []tstep{
			{forceOpen(0), O}, {advance(1000 * time.Hour), O}, {rejected(breaker.ErrForcedOpen), O},
			{clearForce(), H}, {reason(breaker.ReasonForceCleared), H},
		}},
		{"force open voids probes in flight", []tstep{
			{fail(5), O}, {advance(time.Minute), H}, {hold(), H}, {forceOpen(0), O}, {finish(nil), O}, {reset(), C},
		}},
		{"force closed lets calls through and counts", []tstep{
			{fail(5), O}, {forceClosed(time.Minute), C}, {fail(20), C}, {forced(breaker.ForcedClosed), C},
			{advance(time.Minute), C}, {forced(breaker.ForceNone), C}, {reason(breaker.ReasonForceExpired), C},
			{fail(1), O}, // the counts survived the force
		}},
		{"clear force closed keeps counts", []tstep{
			{forceClosed(0), C}, {fail(4), C}, {clearForce(), C}, {fail(1), O},
		}},
		{"clear without force does nothing", []tstep{{fail(4), C}, {clearForce(), C}, {fail(1), O}}},
		{"reset from open gives fresh counts", []tstep{
			{fail(5), O}, {reset(), C}, {reason(breaker.ReasonReset), C}, {fail(4), C}, {fail(1), O},
		}},
		{"reset while closed clears the run", []tstep{{fail(4), C}, {reset(), C}, {fail(4), C}}},
		{"reset clears force", []tstep{{forceOpen(0), O}, {reset(), C}, {forced(breaker.ForceNone), C}, {ok(1), C}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, breaker.Settings{})
			for i, st := range tt.steps {
				st.do(h)
				if got := h.b.State(); got != st.want {
					t.Fatalf("step %d: State() = %v, want %v (transitions %+v)", i, got, st.want, h.transitions())
				}
			}
		})
	}
}

func TestForceTransitionsAreObserved(t *testing.T) {
	h := newHarness(t, breaker.Settings{})
	h.b.ForceClosed("drill", time.Minute)
	h.b.ForceOpen("maintenance", 0)
	h.b.Reset()
	h.b.ForceOpen("maintenance", 0)
	h.b.ResetFor("model redeployed")
	got := h.transitions()
	want := []breaker.Transition{
		{Name: "model", From: C, To: C, Forced: breaker.ForcedClosed, Reason: "drill"},
		{Name: "model", From: C, To: O, Forced: breaker.ForcedOpen, Reason: "maintenance"},
		{Name: "model", From: O, To: C, Forced: breaker.ForceNone, Reason: breaker.ReasonReset},
		{Name: "model", From: C, To: O, Forced: breaker.ForcedOpen, Reason: "maintenance"},
		{Name: "model", From: O, To: C, Forced: breaker.ForceNone, Reason: "reset: model redeployed"},
	}
	if len(got) != len(want) {
		t.Fatalf("transitions = %+v, want %+v", got, want)
	}
	for i := range want {
		want[i].At = h.clock.Now()
		if got[i] != want[i] {
			t.Errorf("transition %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestErrForcedOpenMatchesErrOpen(t *testing.T) {
	for _, err := range []error{breaker.ErrForcedOpen, breaker.ErrTooManyProbes} {
		if !errors.Is(err, breaker.ErrOpen) {
			t.Errorf("errors.Is(%v, ErrOpen) = false, want true", err)
		}
	}
	if errors.Is(breaker.ErrOpen, breaker.ErrForcedOpen) {
		t.Errorf("errors.Is(ErrOpen, ErrForcedOpen) = true, want false")
	}
}

func TestBackoff(t *testing.T) {
	s := breaker.Settings{RecoveryTimeout: time.Minute, Backoff: breaker.Backoff{Multiplier: 2, Max: 3 * time.Minute}}
	h := newHarness(t, s)
	reopen := func(wantWait time.Duration) {
		t.Helper()
		advance(h.b.Snapshot().NextProbe.Sub(h.clock.Now()))(h)
		fail(1)(h)
		nextProbeIn(wantWait)(h)
	}
	fail(5)(h)
	nextProbeIn(time.Minute)(h)
	reopen(2 * time.Minute)
	reopen(3 * time.Minute) // 4m capped at Max
	reopen(3 * time.Minute)
	advance(3 * time.Minute)(h)
	ok(2)(h) // clean close resets the growth
	fail(5)(h)
	nextProbeIn(time.Minute)(h)
}

func TestBackoffJitter(t *testing.T) {
	for _, tt := range []struct {
		r    float64
		want time.Duration
	}{{0, 45 * time.Second}, {0.5, time.Minute}, {0.999999, 75 * time.Second}} {
		s := breaker.Settings{RecoveryTimeout: time.Minute, Backoff: breaker.Backoff{Jitter: 0.25}}
		h := newHarness(t, s, breaker.WithRandom(func() float64 { return tt.r }))
		fail(5)(h)
		got := h.b.Snapshot().NextProbe.Sub(h.clock.Now())
		if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("jitter sample %v: wait = %v, want %v", tt.r, got, tt.want)
		}
	}
}
