package breaker

import "time"

// ReasonRestored is the Transition.Reason of the one transition RestoreState
// publishes.
const ReasonRestored = "restored"

// SavedState is what a breaker keeps across a restart: its state, when an
// OPEN breaker next probes, and an operator override with its reason and
// expiry. Times are wall-clock, so they mean the same in the next process.
// Counts, windows and totals are not kept: they describe calls of the old
// process, and its probes in flight are gone.
type SavedState struct {
	Name        string    `json:"name"`
	State       State     `json:"state"`
	Forced      Force     `json:"forced,omitempty"`
	ForceReason string    `json:"force_reason,omitempty"`
	ForceExpiry time.Time `json:"force_expiry,omitzero"` // zero: no expiry (or no override)
	NextProbe   time.Time `json:"next_probe,omitzero"`   // OPEN without an override: when probes may start
	Streak      int       `json:"streak,omitempty"`      // trips since the last clean close, for Backoff
}

// Export returns the breaker's state for a checkpoint, after applying what
// time has decided (as Snapshot does).
func (b *Breaker) Export() SavedState {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	b.expireLocked(now)
	s := SavedState{Name: b.name, State: stateOfMode(modeOf(b.word.Load())), Forced: b.force,
		ForceReason: b.forceReason, Streak: b.streak}
	if b.forceUntil != 0 {
		s.ForceExpiry = b.at(b.forceUntil)
	}
	if s.State == StateOpen && b.force == ForceNone {
		s.NextProbe = b.at(b.nextProbe.Load())
	}
	return s
}

// RestoreState puts the breaker in the state s describes, as of the
// breaker's clock now, and is meant for a fresh breaker before its first
// call (it voids outstanding tickets like any transition). What time
// decided while the process was down is applied directly: an override
// whose expiry has passed is not restored (a forced OPEN one resumes in
// HALF_OPEN, as on expiry), and an OPEN breaker whose probe time has
// passed resumes in HALF_OPEN. A probe time further ahead than the
// breaker's longest recovery wait (its settings' RecoveryTimeout with
// jitter, or Backoff.Max) is brought back to that wait from now. It publishes at most one Transition, with
// reason ReasonRestored, and none when the result is a plain CLOSED
// breaker: observers see where the breaker is now, not the history it
// missed. s.Name is not checked.
func (b *Breaker) RestoreState(s SavedState) {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	until := int64(0)
	if !s.ForceExpiry.IsZero() {
		until = max(s.ForceExpiry.Sub(b.epoch).Nanoseconds(), 1)
	}
	expired := until != 0 && now >= until
	b.streak = max(s.Streak, 0)
	switch {
	case s.Forced == ForcedOpen && !expired:
		next := until
		if until == 0 {
			next = noExpiry
		}
		b.nextProbe.Store(next)
		b.setRestoredLocked(now, StateOpen, ForcedOpen, modeForcedOpen)
		b.forceReason, b.forceUntil = s.ForceReason, until
	case s.Forced == ForcedClosed && !expired:
		b.setRestoredLocked(now, StateClosed, ForcedClosed, modeForcedClosed)
		b.forceReason, b.forceUntil = s.ForceReason, until
	case s.Forced == ForcedOpen, s.State == StateHalfOpen:
		b.setRestoredLocked(now, StateHalfOpen, ForceNone, modeHalfOpen)
	case s.State == StateOpen && s.Forced == ForceNone:
		next := s.NextProbe.Sub(b.epoch).Nanoseconds()
		if s.NextProbe.IsZero() || now >= next {
			b.setRestoredLocked(now, StateHalfOpen, ForceNone, modeHalfOpen)
			return
		}
		// No wait this breaker could have begun ends later than its
		// longest from now: a time further ahead was written by a clock
		// that ran ahead (or this one stepped back since), and would keep
		// the breaker open for as long as it lies ahead.
		b.nextProbe.Store(min(next, now+b.longestWaitLocked()))
		b.setRestoredLocked(now, StateOpen, ForceNone, modeOpen)
	}
	// Anything else (CLOSED, or an expired forced CLOSED) is where a fresh
	// breaker already is: no transition.
}

// setRestoredLocked is setLocked for RestoreState: a restored OPEN is the
// old process's trip, so it is not counted again in Totals.Trips.
func (b *Breaker) setRestoredLocked(now int64, to State, f Force, mode uint64) {
	trips := b.trips
	b.setLocked(now, to, f, mode, ReasonRestored)
	b.trips = trips
}

// Export returns the saved state of every breaker, sorted by name.
func (r *Registry) Export() []SavedState {
	list := r.List()
	out := make([]SavedState, len(list))
	for i, b := range list {
		out[i] = b.Export()
	}
	return out
}

// RestoreState restores each saved breaker that exists in the registry
// (see Breaker.RestoreState) and returns the names of those that do not,
// which are skipped: a breaker no longer configured is not recreated.
func (r *Registry) RestoreState(saved []SavedState) (unknown []string) {
	for _, s := range saved {
		b, ok := r.Get(s.Name)
		if !ok {
			unknown = append(unknown, s.Name)
			continue
		}
		b.RestoreState(s)
	}
	return unknown
}
