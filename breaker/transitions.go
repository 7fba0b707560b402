package breaker

import "math"

// allowSlow is Allow for every case the lock-free paths do not settle.
func (b *Breaker) allowSlow() (uint64, error) {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	b.expireLocked(now)
	w := b.word.Load()
	switch modeOf(w) {
	case modeOpen:
		b.rejected.Add(1)
		return 0, &b.rejects[rejectOpen]
	case modeForcedOpen:
		b.rejected.Add(1)
		return 0, &b.rejects[rejectForced]
	case modeHalfOpen:
		return b.takeProbeLocked(w, now)
	}
	return makeTicket(w, 0, micros(now)), nil
}

// takeProbeLocked hands out a free probe slot, or rejects when all are out.
func (b *Breaker) takeProbeLocked(w uint64, now int64) (uint64, error) {
	for i, start := range b.probes {
		if start < 0 {
			b.probes[i] = now
			b.inflight++
			return makeTicket(w, i+1, micros(now)), nil
		}
	}
	b.rejected.Add(1)
	return 0, &b.rejects[rejectProbes]
}

// doneSlow is Done for every case the lock-free path does not settle.
func (b *Breaker) doneSlow(t uint64, o Outcome) {
	now := b.now() // a trip needs it even without time-based rules
	b.mu.Lock()
	defer b.unlock()
	if modeOf(b.word.Load()) > modeClosed {
		b.expireLocked(now)
	}
	w := b.word.Load()
	if !sameGen(t, w) {
		b.dropped.Add(1)
		return
	}
	slow := b.s.SlowCall.Duration > 0 &&
		int64(micros(now)-ticketMicros(t))*1000 >= int64(b.s.SlowCall.Duration)
	switch modeOf(w) {
	case modeFast, modeClosed:
		b.recordClosedLocked(w, now, o, slow, true)
	case modeForcedClosed:
		b.recordClosedLocked(w, now, o, slow, false)
	case modeHalfOpen:
		b.probeDoneLocked(t, now, o, slow)
	default:
		b.dropped.Add(1) // no tickets are issued while OPEN
	}
}

// recordClosedLocked counts an outcome while CLOSED and, unless forced
// closed, trips the breaker if a rule says so.
func (b *Breaker) recordClosedLocked(w uint64, now int64, o Outcome, slow, mayTrip bool) {
	switch o {
	case Ignored:
		b.ignored.Add(1)
		return
	case Success:
		b.successes.Add(1)
		b.word.Store(w &^ consecMask)
	default:
		b.failures.Add(1)
		b.successesAtFail.Store(b.successes.Load())
		if consecOf(w) < consecMaxVal {
			b.word.Store(w + consecOne)
		}
	}
	fail := o == Failure
	b.cw.add(fail, slow)
	b.tw.add(now, fail, slow)
	if !mayTrip {
		return
	}
	if reason := b.tripReasonLocked(now); reason != "" {
		b.tripLocked(now, reason)
	}
}

// tripReasonLocked returns why the rules say to trip, or "".
func (b *Breaker) tripReasonLocked(now int64) string {
	s := &b.s
	if t := b.threshold.Load(); t > 0 && int64(consecOf(b.word.Load())) >= t {
		return ReasonConsecutive
	}
	if c := b.cw.counts(); s.CountWindow.Size > 0 && c.Calls >= s.CountWindow.MinCalls {
		if reason := b.ratioReason(c, b.cwRatio, ReasonCountRatio); reason != "" {
			return reason
		}
	}
	if c := b.tw.counts(now); s.TimeWindow.Length > 0 && c.Calls >= s.TimeWindow.MinCalls {
		return b.ratioReason(c, b.twRatio, ReasonTimeRatio)
	}
	return ""
}

func (b *Breaker) ratioReason(c WindowCounts, failRatio ratio, reason string) string {
	switch {
	case failRatio.reached(c.Failures, c.Calls):
		return reason
	case b.s.SlowCall.Duration > 0 && b.slowRatio.reached(c.Slow, c.Calls):
		return ReasonSlowRatio
	}
	return ""
}

// probeDoneLocked returns a probe's permit and acts on its outcome.
func (b *Breaker) probeDoneLocked(t uint64, now int64, o Outcome, slow bool) {
	slot := ticketSlot(t) - 1
	if slot < 0 || slot >= len(b.probes) || b.probes[slot] < 0 {
		b.dropped.Add(1) // not a probe ticket, or Done called twice
		return
	}
	b.probes[slot] = -1
	b.inflight--
	switch o {
	case Ignored:
		b.ignored.Add(1)
	case Failure:
		b.failures.Add(1)
		b.tripLocked(now, ReasonProbeFailed)
	default:
		b.successes.Add(1)
		if slow {
			b.tripLocked(now, ReasonProbeSlow)
			return
		}
		b.probeOK++
		if b.probeOK >= b.s.SuccessThreshold {
			b.streak = 0
			b.setLocked(now, StateClosed, ForceNone, b.closedMode, ReasonProbesOK)
		}
	}
}

// expireLocked applies what the passage of time has decided since the last
// call: an expired force, the end of the recovery wait, an overdue probe.
// Each change is dated when it became due, not when it was noticed, so open
// time and transition times do not depend on how often the breaker is used.
func (b *Breaker) expireLocked(now int64) {
	switch modeOf(b.word.Load()) {
	case modeForcedOpen, modeForcedClosed:
		if b.forceUntil != 0 && now >= b.forceUntil {
			b.endForceLocked(b.forceUntil, ReasonForceExpired)
		}
	}
	switch modeOf(b.word.Load()) {
	case modeOpen:
		if next := b.nextProbe.Load(); now >= next {
			b.setLocked(next, StateHalfOpen, ForceNone, modeHalfOpen, ReasonRecoveryWait)
		}
	case modeHalfOpen:
		oldest := int64(math.MaxInt64)
		for _, start := range b.probes {
			if start >= 0 {
				oldest = min(oldest, start)
			}
		}
		if due := oldest + int64(b.s.ProbeTimeout); oldest != math.MaxInt64 && now >= due {
			b.failures.Add(1)
			b.probeTimeouts++
			b.tripLocked(due, ReasonProbeTimeout)
			// The trip is dated when the probe became overdue, so its
			// recovery wait may be over already: probe again now.
			if next := b.nextProbe.Load(); now >= next {
				b.setLocked(next, StateHalfOpen, ForceNone, modeHalfOpen, ReasonRecoveryWait)
			}
		}
	}
}

// endForceLocked ends an override: forced OPEN goes to HALF_OPEN so probes
// check the dependency first; forced CLOSED stays CLOSED with its counts.
func (b *Breaker) endForceLocked(now int64, reason string) {
	if b.force == ForcedOpen {
		b.setLocked(now, StateHalfOpen, ForceNone, modeHalfOpen, reason)
		return
	}
	b.setLocked(now, StateClosed, ForceNone, b.closedMode, reason)
}

// tripLocked opens the breaker for the recovery wait.
func (b *Breaker) tripLocked(now int64, reason string) {
	b.nextProbe.Store(now + b.recoveryWaitLocked())
	b.streak++
	b.setLocked(now, StateOpen, ForceNone, modeOpen, reason)
}

// setLocked moves to state to with override f and the given mode: it bumps
// the generation (voiding outstanding tickets and probe permits), keeps the
// totals and open-time books, and queues the Transition for observers.
// Counts restart unless the breaker stays CLOSED (an override change).
func (b *Breaker) setLocked(now int64, to State, f Force, mode uint64, reason string) {
	w := b.word.Load()
	from := stateOfMode(modeOf(w))
	keep := from == StateClosed && to == StateClosed
	if from == StateOpen && to != StateOpen {
		b.openTotal += now - b.openedAt
	}
	if to == StateOpen && from != StateOpen {
		b.openedAt = now
		b.trips++
	}
	if to == StateClosed && from != StateClosed {
		b.recoveries++
	}
	nw := (w>>genShift+1)<<genShift | mode
	if keep {
		nw |= w & consecMask
	} else {
		b.resetCountsLocked()
	}
	for i := range b.probes {
		b.probes[i] = -1
	}
	b.inflight, b.probeOK = 0, 0
	same := from == to && b.force == f
	b.force = f
	if f == ForceNone {
		b.forceReason, b.forceUntil = "", 0
	}
	b.word.Store(nw)
	if same {
		// Forcing the state it is already forced to, or resetting a plain
		// CLOSED breaker, changes no state: observers and the transition
		// metrics see nothing (no OPEN->OPEN or CLOSED->CLOSED).
		return
	}
	b.lastTransition, b.transitioned = now, true
	b.queue = append(b.queue, Transition{Name: b.name, From: from, To: to, Forced: f, Reason: reason, At: b.at(now)})
}

// resetCountsLocked empties the windows and the since-transition counts.
// The consecutive failures live in the word and are cleared by its writer.
func (b *Breaker) resetCountsLocked() {
	b.cw.reset()
	b.tw.reset()
	b.successesAtFail.Store(b.successes.Load())
	b.spellStart = b.totalsLocked()
}

func stateOfMode(m uint64) State {
	switch m {
	case modeOpen, modeForcedOpen:
		return StateOpen
	case modeHalfOpen:
		return StateHalfOpen
	}
	return StateClosed
}

// noExpiry is nextProbe while forced open without a TTL.
const noExpiry = math.MaxInt64
