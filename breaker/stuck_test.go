package breaker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

// halfOpen returns a harness whose breaker is HALF_OPEN with no probe out.
func halfOpen(t *testing.T, s breaker.Settings) *harness {
	t.Helper()
	h := newHarness(t, s)
	fail(5)(h)
	advance(time.Minute)(h)
	if got := h.b.State(); got != H {
		t.Fatalf("State() = %v, want HALF_OPEN", got)
	}
	return h
}

func TestPanickingProbeReturnsPermit(t *testing.T) {
	h := halfOpen(t, breaker.Settings{})
	func() {
		defer func() {
			if r := recover(); r != "model exploded" {
				t.Fatalf("recover() = %v, want the probe's panic re-raised", r)
			}
		}()
		_ = h.b.Execute(func() error { panic("model exploded") })
	}()
	s := h.b.Snapshot()
	if s.State != O || s.InFlightProbes != 0 || s.Totals.Failures != 6 {
		t.Fatalf("after panicking probe: State %v, InFlightProbes %d, Failures %d; want OPEN, 0, 6", s.State, s.InFlightProbes, s.Totals.Failures)
	}
	advance(time.Minute)(h)
	ok(2)(h) // the permit came back: probes can run again
	if got := h.b.State(); got != C {
		t.Fatalf("State() = %v, want CLOSED", got)
	}
}

func TestHungProbeIsReclaimedAfterProbeTimeout(t *testing.T) {
	h := halfOpen(t, breaker.Settings{ProbeTimeout: 5 * time.Second})
	hung, err := h.b.Allow()
	if err != nil {
		t.Fatalf("Allow() = %v, want a probe", err)
	}
	advance(4 * time.Second)(h)
	rejected(breaker.ErrTooManyProbes)(h)
	advance(time.Second)(h)
	rejected(breaker.ErrOpen)(h) // this Allow reclaims the permit: a failed probe reopens
	s := h.b.Snapshot()
	if s.State != O || s.Totals.ProbeTimeouts != 1 || h.lastReason() != breaker.ReasonProbeTimeout {
		t.Fatalf("State %v, ProbeTimeouts %d, reason %q; want OPEN, 1, %q", s.State, s.Totals.ProbeTimeouts, h.lastReason(), breaker.ReasonProbeTimeout)
	}
	advance(time.Minute)(h)
	ok(2)(h)
	h.b.Done(hung, nil) // the hung call finally returns: stale, dropped
	s = h.b.Snapshot()
	if s.State != C || s.Totals.Dropped != 1 {
		t.Fatalf("State %v, Dropped %d; want CLOSED, 1", s.State, s.Totals.Dropped)
	}
}

func TestCancelledProbeReturnsPermit(t *testing.T) {
	h := halfOpen(t, breaker.Settings{})
	ctx, cancel := context.WithCancel(t.Context())
	tk, err := h.b.Allow()
	if err != nil {
		t.Fatalf("Allow() = %v, want a probe", err)
	}
	cancel() // the caller hangs up mid-call
	h.b.Done(tk, ctx.Err())
	s := h.b.Snapshot()
	if s.State != H || s.InFlightProbes != 0 || s.Totals.Ignored != 1 {
		t.Fatalf("State %v, InFlightProbes %d, Ignored %d; want HALF_OPEN, 0, 1", s.State, s.InFlightProbes, s.Totals.Ignored)
	}
	ok(2)(h)
	if got := h.b.State(); got != C {
		t.Fatalf("State() = %v, want CLOSED", got)
	}
}

func TestExecute(t *testing.T) {
	h := newHarness(t, breaker.Settings{FailureThreshold: 1})
	if err := h.b.Execute(func() error { return nil }); err != nil {
		t.Fatalf("Execute(ok) = %v, want nil", err)
	}
	if err := h.b.Execute(func() error { return errBoom }); !errors.Is(err, errBoom) {
		t.Fatalf("Execute(boom) = %v, want %v", err, errBoom)
	}
	ran := false
	err := h.b.Execute(func() error { ran = true; return nil })
	if !errors.Is(err, breaker.ErrOpen) || ran {
		t.Fatalf("Execute while OPEN = %v, ran %v; want ErrOpen without running", err, ran)
	}
	s := h.b.Snapshot().Totals
	if s.Successes != 1 || s.Failures != 1 || s.Rejected != 1 {
		t.Fatalf("Totals = %+v, want 1 success, 1 failure, 1 rejected", s)
	}
}

func TestPanicInClosedCountsAsFailure(t *testing.T) {
	h := newHarness(t, breaker.Settings{FailureThreshold: 1})
	func() {
		defer func() { _ = recover() }()
		_ = h.b.Execute(func() error { panic(errBoom) })
	}()
	if got := h.b.State(); got != O {
		t.Fatalf("State() = %v, want OPEN after a panic", got)
	}
}
