package breaker

import "fmt"

// Reconfigure changes the breaker's settings in place, as a configuration
// reload does, keeping what the change does not invalidate:
//
//   - the state, any override (with its reason and expiry) and the recovery
//     wait already scheduled are kept;
//   - the consecutive-failure count and Totals are kept, and so is each
//     window whose shape (CountWindow.Size; TimeWindow Length and Buckets)
//     is unchanged; a reshaped window starts empty;
//   - while CLOSED the new rules judge the counts kept at once, so lowering
//     a threshold below the current count trips (a Transition with that
//     rule's reason); otherwise no Transition is published;
//   - calls in flight finish as after a transition: their outcomes are
//     dropped (Totals.Dropped), because their tickets were measured under
//     the old rules; while HALF_OPEN the probe permits are voided, so
//     probing restarts under the new rules.
//
// Invalid settings return an error wrapping ErrInvalidSettings and change
// nothing.
func (b *Breaker) Reconfigure(s Settings) error {
	ns, err := s.normalize()
	if err != nil {
		return fmt.Errorf("reconfigure breaker %q: %w", b.name, err)
	}
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	b.expireLocked(now)
	old := b.s
	b.setRulesLocked(ns)
	if ns.CountWindow.Size != old.CountWindow.Size {
		b.cw = newCountWindow(ns.CountWindow.Size)
	}
	if ns.TimeWindow.Length != old.TimeWindow.Length || ns.TimeWindow.Buckets != old.TimeWindow.Buckets {
		b.tw = newTimeWindow(ns.TimeWindow.Length, ns.TimeWindow.Buckets)
	}
	b.probes = make([]int64, ns.MaxProbes)
	for i := range b.probes {
		b.probes[i] = -1
	}
	b.inflight, b.probeOK = 0, 0
	closed := b.bumpGenLocked()
	if closed && b.force == ForceNone {
		if reason := b.tripReasonLocked(now); reason != "" {
			b.tripLocked(now, reason)
		}
	}
	return nil
}

// bumpGenLocked voids outstanding tickets without a transition, switching a
// CLOSED breaker to the new closed mode; the consecutive count survives. A
// CAS loop, because the lock-free path may count a failure meanwhile. It
// reports whether the breaker is in a plain CLOSED mode.
func (b *Breaker) bumpGenLocked() bool {
	for {
		w := b.word.Load()
		mode := modeOf(w)
		closed := mode == modeFast || mode == modeClosed
		if closed {
			mode = b.closedMode
		}
		nw := (w>>genShift+1)<<genShift | w&consecMask | mode
		if b.word.CompareAndSwap(w, nw) {
			return closed
		}
	}
}
