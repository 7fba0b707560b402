package breaker_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/astraguard/astraguard/breaker"
)

// refModel is a deliberately plain reference of the state machine, without
// the fast path, atomics or lazy tricks, for the property test to compare
// against. Backoff, time windows and slow calls are left to the table tests.
type refModel struct {
	s          breaker.Settings
	now        time.Duration
	state      breaker.State
	force      breaker.Force
	forceUntil time.Duration // 0 = none
	nextProbe  time.Duration
	gen        int
	consec     int
	window     []bool // failures of the last CountWindow.Size calls
	probes     map[int]time.Duration
	probeOK    int
	totals     breaker.Totals
}

type refCall struct {
	ticket uint64
	gen    int
	probe  bool
	id     int
}

func (m *refModel) move(to breaker.State, f breaker.Force) {
	keep := m.state == breaker.StateClosed && to == breaker.StateClosed
	if to == breaker.StateOpen && m.state != breaker.StateOpen {
		m.totals.Trips++
	}
	if to == breaker.StateClosed && m.state != breaker.StateClosed {
		m.totals.Recoveries++
	}
	if !keep {
		m.consec, m.window = 0, nil
	}
	m.state, m.force, m.gen, m.probes, m.probeOK = to, f, m.gen+1, map[int]time.Duration{}, 0
	if f == breaker.ForceNone {
		m.forceUntil = 0
	}
}

func (m *refModel) reset() {
	if m.state != breaker.StateClosed {
		m.totals.Recoveries++
	}
	m.state, m.force, m.forceUntil, m.gen = breaker.StateClosed, breaker.ForceNone, 0, m.gen+1
	m.consec, m.window, m.probes, m.probeOK = 0, nil, map[int]time.Duration{}, 0
}

func (m *refModel) trip() {
	m.nextProbe = m.now + m.s.RecoveryTimeout
	m.move(breaker.StateOpen, breaker.ForceNone)
}

func (m *refModel) expire() {
	if m.force != breaker.ForceNone && m.forceUntil != 0 && m.now >= m.forceUntil {
		m.endForce()
	}
	if m.state == breaker.StateOpen && m.force == breaker.ForceNone && m.now >= m.nextProbe {
		m.move(breaker.StateHalfOpen, breaker.ForceNone)
	}
	if m.state != breaker.StateHalfOpen || len(m.probes) == 0 {
		return
	}
	oldest := slices.Min(slices.Collect(maps.Values(m.probes)))
	if due := oldest + m.s.ProbeTimeout; m.now >= due {
		m.totals.Failures++
		m.totals.ProbeTimeouts++
		m.nextProbe = due + m.s.RecoveryTimeout
		m.move(breaker.StateOpen, breaker.ForceNone)
		// The reopening is dated when the probe became overdue, so its
		// recovery wait may be over already.
		if m.now >= m.nextProbe {
			m.move(breaker.StateHalfOpen, breaker.ForceNone)
		}
	}
}

func (m *refModel) endForce() {
	if m.force == breaker.ForcedOpen {
		m.move(breaker.StateHalfOpen, breaker.ForceNone)
	} else {
		m.move(breaker.StateClosed, breaker.ForceNone)
	}
}

// allow returns the expected rejection (nil to admit) and whether the call
// is a probe.
func (m *refModel) allow(id int) (error, bool) {
	switch {
	case m.state == breaker.StateClosed:
		return nil, false
	case m.force == breaker.ForcedOpen:
		m.totals.Rejected++
		return breaker.ErrForcedOpen, false
	case m.state == breaker.StateOpen:
		m.totals.Rejected++
		return breaker.ErrOpen, false
	case len(m.probes) < m.s.MaxProbes:
		m.probes[id] = m.now
		return nil, true
	}
	m.totals.Rejected++
	return breaker.ErrTooManyProbes, false
}

func (m *refModel) done(c refCall, o breaker.Outcome) {
	if c.gen != m.gen {
		m.totals.Dropped++
		return
	}
	if o == breaker.Ignored {
		m.totals.Ignored++
		delete(m.probes, c.id)
		return
	}
	if m.state == breaker.StateHalfOpen {
		delete(m.probes, c.id)
		m.probeDone(o)
		return
	}
	if o == breaker.Success {
		m.totals.Successes++
		m.consec = 0
	} else {
		m.totals.Failures++
		m.consec++
	}
	if n := m.s.CountWindow.Size; n > 0 {
		m.window = append(m.window, o == breaker.Failure)
		m.window = m.window[max(0, len(m.window)-n):]
	}
	if m.force == breaker.ForceNone && m.shouldTrip() {
		m.trip()
	}
}

func (m *refModel) probeDone(o breaker.Outcome) {
	if o == breaker.Failure {
		m.totals.Failures++
		m.trip()
		return
	}
	m.totals.Successes++
	if m.probeOK++; m.probeOK >= m.s.SuccessThreshold {
		m.move(breaker.StateClosed, breaker.ForceNone)
	}
}

func (m *refModel) shouldTrip() bool {
	if m.s.FailureThreshold > 0 && m.consec >= m.s.FailureThreshold {
		return true
	}
	cw := m.s.CountWindow
	fails := 0
	for _, f := range m.window {
		if f {
			fails++
		}
	}
	return cw.Size > 0 && len(m.window) >= cw.MinCalls && float64(fails) >= cw.FailureRatio*float64(len(m.window))
}

func drawSettings(t *rapid.T) breaker.Settings {
	s := breaker.Settings{
		FailureThreshold: rapid.IntRange(1, 4).Draw(t, "failureThreshold"),
		SuccessThreshold: rapid.IntRange(1, 3).Draw(t, "successThreshold"),
		MaxProbes:        rapid.IntRange(1, 3).Draw(t, "maxProbes"),
		RecoveryTimeout:  time.Duration(rapid.IntRange(1, 5).Draw(t, "recovery")) * time.Second,
		ProbeTimeout:     time.Duration(rapid.IntRange(1, 8).Draw(t, "probeTimeout")) * time.Second,
	}
	if rapid.Bool().Draw(t, "countWindow") {
		size := rapid.IntRange(2, 6).Draw(t, "size")
		s.CountWindow = breaker.CountWindow{Size: size, MinCalls: rapid.IntRange(1, size).Draw(t, "minCalls"), FailureRatio: 0.5}
		if rapid.Bool().Draw(t, "windowOnly") {
			s.FailureThreshold = -1
		}
	}
	return s
}

func TestStateMachineMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawSettings(t)
		clock := newFakeClock()
		b, err := breaker.New("model", s, breaker.WithClock(clock))
		if err != nil {
			t.Fatalf("New(%+v) = %v", s, err)
		}
		m := &refModel{s: b.Settings(), probes: map[int]time.Duration{}}
		var calls []refCall
		nextID := 0
		t.Repeat(map[string]func(*rapid.T){
			"": func(t *rapid.T) { m.expire(); compare(t, b, m) },
			"allow": func(t *rapid.T) {
				tk, err := b.Allow()
				want, probe := m.allow(nextID)
				if !sameRejection(err, want) {
					t.Fatalf("Allow() = %v, want %v", err, want)
				}
				if err == nil {
					calls = append(calls, refCall{ticket: tk, gen: m.gen, probe: probe, id: nextID})
				}
				nextID++
			},
			"done": func(t *rapid.T) {
				if len(calls) == 0 {
					t.Skip("no call in flight")
				}
				i := rapid.IntRange(0, len(calls)-1).Draw(t, "call")
				o := rapid.SampledFrom([]breaker.Outcome{breaker.Success, breaker.Failure, breaker.Ignored}).Draw(t, "outcome")
				c := calls[i]
				calls = slices.Delete(calls, i, i+1)
				b.Done(c.ticket, errFor(o))
				m.done(c, o)
			},
			"advance": func(t *rapid.T) {
				d := time.Duration(rapid.IntRange(0, 4).Draw(t, "seconds")) * time.Second
				clock.Advance(d)
				m.now += d
			},
			"forceOpen": func(t *rapid.T) {
				ttl := time.Duration(rapid.IntRange(0, 4).Draw(t, "ttl")) * time.Second
				b.ForceOpen("op", ttl)
				m.move(breaker.StateOpen, breaker.ForcedOpen)
				m.forceUntil = expiryOf(m.now, ttl)
			},
			"forceClosed": func(t *rapid.T) {
				ttl := time.Duration(rapid.IntRange(0, 4).Draw(t, "ttl")) * time.Second
				b.ForceClosed("op", ttl)
				m.move(breaker.StateClosed, breaker.ForcedClosed)
				m.forceUntil = expiryOf(m.now, ttl)
			},
			"clearForce": func(t *rapid.T) {
				b.ClearForce()
				if m.force != breaker.ForceNone {
					m.endForce()
				}
			},
			"reset": func(t *rapid.T) {
				b.Reset()
				m.reset()
			},
		})
	})
}

func compare(t *rapid.T, b *breaker.Breaker, m *refModel) {
	s := b.Snapshot()
	if s.State != m.state || s.Forced != m.force {
		t.Fatalf("State %v %v, model %v %v", s.State, s.Forced, m.state, m.force)
	}
	if s.Totals != m.totals {
		t.Fatalf("Totals %+v, model %+v", s.Totals, m.totals)
	}
	if s.State == breaker.StateClosed && s.ConsecutiveFailures != m.consec {
		t.Fatalf("ConsecutiveFailures %d, model %d", s.ConsecutiveFailures, m.consec)
	}
	if s.State == breaker.StateHalfOpen && (s.InFlightProbes != len(m.probes) || s.ConsecutiveSuccesses != m.probeOK) {
		t.Fatalf("probes %d ok %d, model %d ok %d", s.InFlightProbes, s.ConsecutiveSuccesses, len(m.probes), m.probeOK)
	}
}

// sameRejection reports whether Allow's err is the rejection the model wants.
func sameRejection(err, want error) bool {
	if want == nil || err == nil {
		return err == want
	}
	if !errors.Is(err, breaker.ErrOpen) {
		return false
	}
	for _, kind := range []error{breaker.ErrForcedOpen, breaker.ErrTooManyProbes} {
		if errors.Is(err, kind) != errors.Is(want, kind) {
			return false
		}
	}
	return true
}

func errFor(o breaker.Outcome) error {
	switch o {
	case breaker.Failure:
		return errBoom
	case breaker.Ignored:
		return context.Canceled
	}
	return nil
}

func expiryOf(now, ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return now + ttl
}
