package breaker

import "time"

// Snapshot is a consistent view of one breaker, as shown by the BreakerAdmin
// service and exported by breakerprom.
type Snapshot struct {
	Name        string
	State       State
	Forced      Force
	ForceReason string    // "" without an override
	ForceExpiry time.Time // zero without an override or without a TTL
	Settings    Settings  // in effect, defaults filled in

	// Window holds the counts of the time window if one is configured, else
	// of the count window. With only the consecutive rule no window is kept
	// (the lock-free path has none), so it holds the counts since the last
	// transition.
	Window               WindowCounts
	ConsecutiveFailures  int // while CLOSED
	ConsecutiveSuccesses int // while CLOSED since the last failure; while HALF_OPEN, probe successes
	InFlightProbes       int // while HALF_OPEN

	Totals         Totals
	OpenDuration   time.Duration // time spent OPEN in total, including the current spell
	LastTransition time.Time     // zero before the first transition
	NextProbe      time.Time     // while OPEN, when probes may start; zero if never (forced without TTL) or not OPEN
}

// Totals are monotonic counts since New; Reset does not clear them.
type Totals struct {
	Successes     uint64 // outcomes classified Success
	Failures      uint64 // outcomes classified Failure, plus overdue probes
	Ignored       uint64 // outcomes classified Ignored
	Rejected      uint64 // calls Allow refused
	Dropped       uint64 // outcomes of tickets from before a transition
	ProbeTimeouts uint64 // probes reclaimed after ProbeTimeout (also in Failures)
	Trips         uint64 // transitions into OPEN, forced ones included
	Recoveries    uint64 // transitions into CLOSED from OPEN or HALF_OPEN
}

// Snapshot returns the breaker's current view, after applying what time has
// decided since the last call.
func (b *Breaker) Snapshot() Snapshot {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	b.expireLocked(now)
	w := b.word.Load()
	s := Snapshot{
		Name:         b.name,
		State:        stateOfMode(modeOf(w)),
		Forced:       b.force,
		ForceReason:  b.forceReason,
		Settings:     b.s,
		Totals:       b.totalsLocked(),
		OpenDuration: time.Duration(b.openTotal),
	}
	if b.forceUntil != 0 {
		s.ForceExpiry = b.at(b.forceUntil)
	}
	if b.transitioned {
		s.LastTransition = b.at(b.lastTransition)
	}
	switch s.State {
	case StateOpen:
		s.OpenDuration += time.Duration(now - b.openedAt)
		if np := b.nextProbe.Load(); np != noExpiry {
			s.NextProbe = b.at(np)
		}
	case StateHalfOpen:
		s.ConsecutiveSuccesses = b.probeOK
		s.InFlightProbes = b.inflight
	default:
		s.ConsecutiveFailures = consecOf(w)
		if at := b.successesAtFail.Load(); at < s.Totals.Successes {
			s.ConsecutiveSuccesses = int(s.Totals.Successes - at) // approximate under concurrent calls
		}
	}
	s.Window = b.windowLocked(now)
	return s
}

func (b *Breaker) totalsLocked() Totals {
	return Totals{
		Successes:     b.successes.Load(),
		Failures:      b.failures.Load(),
		Ignored:       b.ignored.Load(),
		Rejected:      b.rejected.Load(),
		Dropped:       b.dropped.Load(),
		ProbeTimeouts: b.probeTimeouts,
		Trips:         b.trips,
		Recoveries:    b.recoveries,
	}
}

// windowLocked picks the counts Snapshot.Window documents.
func (b *Breaker) windowLocked(now int64) WindowCounts {
	switch {
	case b.s.TimeWindow.Length > 0:
		return b.tw.counts(now)
	case b.s.CountWindow.Size > 0:
		return b.cw.counts()
	}
	t := b.totalsLocked()
	return WindowCounts{
		Calls:    int(t.Successes + t.Failures - b.spellStart.Successes - b.spellStart.Failures),
		Failures: int(t.Failures - b.spellStart.Failures),
	}
}
