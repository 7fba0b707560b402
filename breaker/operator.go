package breaker

import "time"

// Reset returns the breaker to CLOSED with fresh window and consecutive
// counts, clears any override and the Backoff growth, and voids outstanding
// tickets. Totals are kept: they back monotonic counters. Its transition's
// reason is ReasonReset.
func (b *Breaker) Reset() { b.ResetFor("") }

// ResetFor is Reset with an operator's reason, reported in the transition
// as "reset: <reason>" (ReasonReset when reason is empty).
func (b *Breaker) ResetFor(reason string) {
	if reason != "" {
		reason = ReasonReset + ": " + reason
	} else {
		reason = ReasonReset
	}
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	b.streak = 0
	b.setLocked(now, StateClosed, ForceNone, b.closedMode, reason)
	b.word.Store(b.word.Load() &^ consecMask) // setLocked keeps CLOSED counts; Reset must not
	b.resetCountsLocked()
}

// ForceOpen rejects every call with ErrForcedOpen until ttl passes (ttl <= 0:
// until ClearForce or Reset). When the force ends the breaker goes
// HALF_OPEN, so probes check the dependency before full traffic returns.
// reason is reported in Snapshot and Transition.
func (b *Breaker) ForceOpen(reason string, ttl time.Duration) {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	until := expiry(now, ttl)
	next := until
	if until == 0 {
		next = noExpiry
	}
	b.nextProbe.Store(next)
	b.setLocked(now, StateOpen, ForcedOpen, modeForcedOpen, reason)
	b.forceReason, b.forceUntil = reason, until
}

// ForceClosed lets every call through until ttl passes (ttl <= 0: until
// ClearForce or Reset). Outcomes are still counted, in totals, windows and
// consecutive counts, but never trip; when the force ends the breaker stays
// CLOSED with those counts, so a still-failing dependency trips it on the
// next failure. reason is reported in Snapshot and Transition.
func (b *Breaker) ForceClosed(reason string, ttl time.Duration) {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	b.setLocked(now, StateClosed, ForcedClosed, modeForcedClosed, reason)
	b.forceReason, b.forceUntil = reason, expiry(now, ttl)
}

// ClearForce ends an override early, as if it had expired. Without an
// override it does nothing.
func (b *Breaker) ClearForce() {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	b.expireLocked(now)
	if b.force != ForceNone {
		b.endForceLocked(now, ReasonForceCleared)
	}
}

// State returns the current state after applying what time has decided
// (e.g. OPEN becomes HALF_OPEN once the recovery wait is over).
func (b *Breaker) State() State {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	b.expireLocked(now)
	return stateOfMode(modeOf(b.word.Load()))
}

func expiry(now int64, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return now + int64(ttl)
}
