package breaker_test

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

// restoreRig builds an "old process" breaker and a fresh "new process" one
// on the same fake clock, recording the new one's transitions.
type restoreRig struct {
	clock    *fakeClock
	old, new *breaker.Breaker
	mu       sync.Mutex
	seen     []breaker.Transition
}

func newRestoreRig(t *testing.T) *restoreRig {
	t.Helper()
	r := &restoreRig{clock: newFakeClock()}
	s := breaker.Settings{FailureThreshold: 1, RecoveryTimeout: time.Minute}
	var err error
	if r.old, err = breaker.New("model", s, breaker.WithClock(r.clock)); err != nil {
		t.Fatal(err)
	}
	r.new, err = breaker.New("model", s, breaker.WithClock(r.clock), breaker.WithObserver(func(tr breaker.Transition) {
		r.mu.Lock()
		r.seen = append(r.seen, tr)
		r.mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// restart exports the old breaker, lets down pass, round-trips the state
// through JSON as the checkpoint does, and restores the new breaker.
func (r *restoreRig) restart(t *testing.T, down time.Duration) {
	t.Helper()
	b, err := json.Marshal(r.old.Export())
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(down)
	var s breaker.SavedState
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	r.new.RestoreState(s)
}

func (r *restoreRig) transitions() []breaker.Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func wantRejected(t *testing.T, b *breaker.Breaker, want error) {
	t.Helper()
	if _, err := b.Allow(); !errors.Is(err, want) {
		t.Fatalf("Allow() = %v, want %v", err, want)
	}
}

func TestRestoreForcedOpenKeepsReasonAndExpiry(t *testing.T) {
	r := newRestoreRig(t)
	r.old.ForceOpen("maintenance window", 10*time.Minute)
	expiry := r.old.Snapshot().ForceExpiry
	r.clock.Advance(3 * time.Minute)
	r.restart(t, 2*time.Minute)

	s := r.new.Snapshot()
	if s.State != breaker.StateOpen || s.Forced != breaker.ForcedOpen || s.ForceReason != "maintenance window" || !s.ForceExpiry.Equal(expiry) {
		t.Fatalf("after restore: %v %v %q until %v; want OPEN FORCED_OPEN %q until %v", s.State, s.Forced, s.ForceReason, s.ForceExpiry, "maintenance window", expiry)
	}
	wantRejected(t, r.new, breaker.ErrForcedOpen)
	r.clock.Advance(5*time.Minute - time.Nanosecond)
	wantRejected(t, r.new, breaker.ErrForcedOpen)
	r.clock.Advance(time.Nanosecond)
	if got := r.new.State(); got != breaker.StateHalfOpen {
		t.Errorf("at the original expiry: State() = %v, want HALF_OPEN", got)
	}
	tr := r.transitions()
	if len(tr) < 1 || tr[0].Reason != breaker.ReasonRestored || tr[0].To != breaker.StateOpen || tr[0].Forced != breaker.ForcedOpen {
		t.Errorf("first transition = %+v, want the restore to forced OPEN", tr)
	}
}

func TestRestoreForcedOpenWithoutExpiry(t *testing.T) {
	r := newRestoreRig(t)
	r.old.ForceOpen("decommissioned", 0)
	r.restart(t, 1000*time.Hour)
	wantRejected(t, r.new, breaker.ErrForcedOpen)
	if s := r.new.Snapshot(); !s.ForceExpiry.IsZero() || s.ForceReason != "decommissioned" {
		t.Errorf("after restore: %+v", s)
	}
}

func TestRestoreOpenStaysOpenUntilProbeTime(t *testing.T) {
	r := newRestoreRig(t)
	t0, _ := r.old.Allow()
	r.old.Done(t0, errors.New("model down"))
	probe := r.old.Snapshot().NextProbe
	r.clock.Advance(20 * time.Second)
	r.restart(t, 10*time.Second)

	s := r.new.Snapshot()
	if s.State != breaker.StateOpen || s.Forced != breaker.ForceNone || !s.NextProbe.Equal(probe) {
		t.Fatalf("after restore: %v %v next probe %v, want OPEN next probe %v", s.State, s.Forced, s.NextProbe, probe)
	}
	if s.Totals.Trips != 0 {
		t.Errorf("Totals.Trips = %d after restore, want 0: the trip was the old process's", s.Totals.Trips)
	}
	wantRejected(t, r.new, breaker.ErrOpen)
	r.clock.Advance(30*time.Second - time.Nanosecond)
	wantRejected(t, r.new, breaker.ErrOpen)
	r.clock.Advance(time.Nanosecond)
	if _, err := r.new.Allow(); err != nil {
		t.Errorf("at the probe time: Allow() = %v, want a probe", err)
	}
}

// TestRestoreAppliesDowntime: what time decided while the process was down
// is applied in one transition, not replayed.
func TestRestoreAppliesDowntime(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(b *breaker.Breaker)
		down   time.Duration
		want   breaker.State
		forced breaker.Force
		events int
	}{
		{"open past its probe time probes", func(b *breaker.Breaker) { t0, _ := b.Allow(); b.Done(t0, errors.New("x")) },
			2 * time.Minute, breaker.StateHalfOpen, breaker.ForceNone, 1},
		{"expired forced open probes", func(b *breaker.Breaker) { b.ForceOpen("m", time.Minute) },
			time.Hour, breaker.StateHalfOpen, breaker.ForceNone, 1},
		{"forced closed kept", func(b *breaker.Breaker) { b.ForceClosed("incident", time.Hour) },
			time.Minute, breaker.StateClosed, breaker.ForcedClosed, 1},
		{"expired forced closed is plain closed", func(b *breaker.Breaker) { b.ForceClosed("incident", time.Minute) },
			time.Hour, breaker.StateClosed, breaker.ForceNone, 0},
		{"closed publishes nothing", func(*breaker.Breaker) {}, time.Hour, breaker.StateClosed, breaker.ForceNone, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRestoreRig(t)
			tt.setup(r.old)
			r.restart(t, tt.down)
			if s := r.new.Snapshot(); s.State != tt.want || s.Forced != tt.forced {
				t.Errorf("after restore: %v %v, want %v %v", s.State, s.Forced, tt.want, tt.forced)
			}
			tr := r.transitions()
			if len(tr) != tt.events {
				t.Fatalf("transitions = %+v, want %d", tr, tt.events)
			}
			if len(tr) == 1 && tr[0].Reason != breaker.ReasonRestored {
				t.Errorf("transition reason = %q, want %q", tr[0].Reason, breaker.ReasonRestored)
			}
		})
	}
}

func TestRegistryExportRestore(t *testing.T) {
	clock := newFakeClock()
	old, _ := breaker.NewRegistry(breaker.Settings{}, breaker.WithClock(clock))
	old.Breaker("model").ForceOpen("maintenance", time.Hour)
	old.Breaker("legacy")
	saved := old.Export()
	if len(saved) != 2 || saved[0].Name != "legacy" || saved[1].Name != "model" {
		t.Fatalf("Export() = %+v, want legacy and model in name order", saved)
	}
	fresh, _ := breaker.NewRegistry(breaker.Settings{}, breaker.WithClock(clock))
	fresh.Breaker("model")
	if unknown := fresh.RestoreState(saved); !slices.Equal(unknown, []string{"legacy"}) {
		t.Errorf("RestoreState unknown = %v, want [legacy]", unknown)
	}
	if _, ok := fresh.Get("legacy"); ok {
		t.Error("RestoreState created a breaker that was not configured")
	}
	if got := fresh.Breaker("model").Snapshot().Forced; got != breaker.ForcedOpen {
		t.Errorf("model after restore: Forced = %v, want FORCED_OPEN", got)
	}
}

// TestRestoreNextProbeBoundedByLongestWait: a restored next probe time no
// later than the breaker's longest recovery wait from now. One further
// ahead (a snapshot written by a clock that ran ahead, or a clock stepped
// back since) kept the breaker OPEN, every call on the fallback, for as
// long as it lay ahead: 1000 hours here, with a 1 minute recovery timeout.
func TestRestoreNextProbeBoundedByLongestWait(t *testing.T) {
	for name, s := range map[string]breaker.Settings{
		"fixed":   {FailureThreshold: 1, RecoveryTimeout: time.Minute},
		"jitter":  {FailureThreshold: 1, RecoveryTimeout: time.Minute, Backoff: breaker.Backoff{Jitter: 0.5}},
		"backoff": {FailureThreshold: 1, RecoveryTimeout: time.Minute, Backoff: breaker.Backoff{Multiplier: 2, Max: 5 * time.Minute}},
	} {
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			b, err := breaker.New("model", s, breaker.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			longest := s.RecoveryTimeout + time.Duration(float64(s.RecoveryTimeout)*s.Backoff.Jitter)
			if s.Backoff.Multiplier > 1 {
				longest = s.Backoff.Max
			}
			b.RestoreState(breaker.SavedState{Name: "model", State: breaker.StateOpen, NextProbe: clock.Now().Add(1000 * time.Hour), Streak: 3})
			wantRejected(t, b, breaker.ErrOpen)
			if got := b.Snapshot().NextProbe; got.After(clock.Now().Add(longest)) {
				t.Errorf("NextProbe = %v, more than the longest wait %v from now %v", got, longest, clock.Now())
			}
			clock.Advance(longest)
			if _, err := b.Allow(); err != nil {
				t.Errorf("after the longest wait: Allow() = %v, want a probe", err)
			}
		})
	}
}
