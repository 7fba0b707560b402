package breaker_test

import (
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

func TestObserverMayCallBreaker(t *testing.T) {
	clock := newFakeClock()
	var b *breaker.Breaker
	var seen []breaker.Transition
	var snapState []breaker.State
	obs := func(tr breaker.Transition) {
		seen = append(seen, tr)
		snapState = append(snapState, b.Snapshot().State) // would deadlock if called under the lock
		if tr.To == breaker.StateOpen && tr.Forced != breaker.ForcedOpen {
			b.ForceOpen("observer reacts", 0) // a transition from inside an observer
		}
	}
	b, err := breaker.New("model", breaker.Settings{FailureThreshold: 1}, breaker.WithClock(clock), breaker.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Execute(func() error { return errBoom })
	if len(seen) != 2 || seen[0].Reason != breaker.ReasonConsecutive || seen[1].Reason != "observer reacts" {
		t.Fatalf("transitions = %+v, want the trip then the observer's force, in order", seen)
	}
	if snapState[0] != breaker.StateOpen || b.Snapshot().Forced != breaker.ForcedOpen {
		t.Fatalf("observer saw %v, final Forced %v; want OPEN, FORCED_OPEN", snapState, b.Snapshot().Forced)
	}
}

func TestSnapshot(t *testing.T) {
	h := newHarness(t, breaker.Settings{CountWindow: breaker.CountWindow{Size: 10}})
	ok(3)(h)
	fail(2)(h)
	calls(1, errIgnored)(h)
	s := h.b.Snapshot()
	if s.Name != "model" || s.State != C || s.ConsecutiveFailures != 2 || s.ConsecutiveSuccesses != 0 {
		t.Fatalf("Snapshot() = %+v, want CLOSED with 2 consecutive failures", s)
	}
	if want := (breaker.WindowCounts{Calls: 5, Failures: 2}); s.Window != want {
		t.Errorf("Window = %+v, want %+v", s.Window, want)
	}
	if want := (breaker.Totals{Successes: 3, Failures: 2, Ignored: 1}); s.Totals != want {
		t.Errorf("Totals = %+v, want %+v", s.Totals, want)
	}
	if s.Settings.FailureThreshold != 5 || s.Settings.CountWindow.MinCalls != 10 {
		t.Errorf("Settings = %+v, want defaults filled in", s.Settings)
	}
	if !s.LastTransition.IsZero() || !s.NextProbe.IsZero() {
		t.Errorf("LastTransition %v, NextProbe %v; want zero before any transition", s.LastTransition, s.NextProbe)
	}
	start := h.clock.Now()
	fail(3)(h)
	advance(10 * time.Second)(h)
	s = h.b.Snapshot()
	if s.State != O || s.OpenDuration != 10*time.Second || !s.LastTransition.Equal(start) || !s.NextProbe.Equal(start.Add(time.Minute)) {
		t.Fatalf("Snapshot() = %+v, want OPEN for 10s since %v", s, start)
	}
	advance(time.Minute)(h)
	ok(2)(h)
	s = h.b.Snapshot()
	if s.OpenDuration != time.Minute || s.Totals.Trips != 1 || s.Totals.Recoveries != 1 || s.Window != (breaker.WindowCounts{}) {
		t.Fatalf("Snapshot() = %+v, want 1m open (until the probe was due), 1 trip, 1 recovery, empty window", s)
	}
}

func TestSnapshotWindowWithoutWindows(t *testing.T) {
	h := newHarness(t, breaker.Settings{})
	ok(3)(h)
	fail(1)(h)
	if got, want := h.b.Snapshot().Window, (breaker.WindowCounts{Calls: 4, Failures: 1}); got != want {
		t.Fatalf("Window = %+v, want %+v (since the last transition)", got, want)
	}
	if got := h.b.Snapshot().ConsecutiveSuccesses; got != 0 {
		t.Fatalf("ConsecutiveSuccesses = %d, want 0 right after a failure", got)
	}
	ok(2)(h)
	if got := h.b.Snapshot().ConsecutiveSuccesses; got != 2 {
		t.Fatalf("ConsecutiveSuccesses = %d, want 2", got)
	}
}
