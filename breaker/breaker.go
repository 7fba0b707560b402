package breaker

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Breaker is a circuit breaker. Create it with New or Registry.Breaker; the
// zero value is not usable. All methods are safe for concurrent use.
type Breaker struct {
	// Hot fields, read by every call. See word.go for the layout of word.
	word      atomic.Uint64
	nextProbe atomic.Int64 // ns since epoch: OPEN rejects lock-free before it
	_         [48]byte     // keep counter writes off word's cache line

	// Totals, monotonic for Prometheus. A success in the fast path is one
	// atomic add here; striping it per CPU would need sync.Pool or runtime
	// internals, which cost more than they saved when measured (test/bench/).
	successes atomic.Uint64
	failures  atomic.Uint64
	ignored   atomic.Uint64
	rejected  atomic.Uint64
	dropped   atomic.Uint64
	// successesAtFail is successes at the last CLOSED failure or
	// transition, so ConsecutiveSuccesses needs no write per success.
	successesAtFail atomic.Uint64

	name string
	// threshold is the consecutive failures that trip (0: rule off) and
	// slowOn whether the slow-call rule is on; atomics because the
	// lock-free paths read them and Reconfigure changes them.
	threshold atomic.Int64
	slowOn    atomic.Bool
	epoch     time.Time
	o         options
	rejects   [3]rejectError // what Allow returns: open, forced open, too many probes

	mu     sync.Mutex
	locked // guarded by mu
	rules  // guarded by mu
}

// rules are the normalized settings and what is derived from them; only
// Reconfigure changes them after New.
type rules struct {
	s          Settings // normalized
	closedMode uint64   // modeFast or modeClosed
	cwRatio    ratio    // CountWindow.FailureRatio, compared in integers
	twRatio    ratio    // TimeWindow.FailureRatio
	slowRatio  ratio    // SlowCall.Ratio
}

// locked is the state guarded by Breaker.mu.
type locked struct {
	force          Force
	forceReason    string
	forceUntil     int64   // ns since epoch; 0 = no expiry
	probes         []int64 // start ns of each probe slot in flight; -1 = free
	inflight       int
	probeOK        int // probe successes this HALF_OPEN spell
	streak         int // trips since the last clean close, for Backoff
	openedAt       int64
	openTotal      int64
	lastTransition int64
	transitioned   bool   // lastTransition is set
	spellStart     Totals // totals at the last transition, for Snapshot.Window
	trips          uint64
	recoveries     uint64
	probeTimeouts  uint64
	jitter         float64 // pre-drawn sample for the next trip
	jitterUsed     bool
	cw             countWindow
	tw             timeWindow
	queue          []Transition // transitions not yet given to observers
	delivering     bool         // a goroutine is draining queue
}

// New returns a CLOSED breaker named name. Settings are normalized (zero
// fields take defaults) and validated; an invalid one returns an error
// wrapping ErrInvalidSettings.
func New(name string, s Settings, opts ...Option) (*Breaker, error) {
	ns, err := s.normalize()
	if err != nil {
		return nil, fmt.Errorf("new breaker %q: %w", name, err)
	}
	b := &Breaker{name: name, o: evaluate(opts)}
	b.epoch = b.o.clock.Now()
	b.rejects = [3]rejectError{{name: name, kind: ErrOpen}, {name: name, kind: ErrForcedOpen}, {name: name, kind: ErrTooManyProbes}}
	b.setRulesLocked(ns) // nothing else can see b yet
	b.probes = make([]int64, ns.MaxProbes)
	for i := range b.probes {
		b.probes[i] = -1
	}
	b.cw = newCountWindow(ns.CountWindow.Size)
	b.tw = newTimeWindow(ns.TimeWindow.Length, ns.TimeWindow.Buckets)
	b.jitter = 0.5
	if ns.Backoff.Jitter > 0 {
		b.jitter = b.o.random()
	}
	b.word.Store(b.closedMode)
	return b, nil
}

// Name returns the name given to New.
func (b *Breaker) Name() string { return b.name }

// Settings returns the settings in effect, defaults filled in.
func (b *Breaker) Settings() Settings {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s
}

// setRulesLocked derives the rules from normalized settings ns.
func (b *Breaker) setRulesLocked(ns Settings) {
	r := rules{s: ns, closedMode: modeClosed}
	if ns.fastPath() {
		r.closedMode = modeFast
	}
	if ns.CountWindow.Size > 0 {
		r.cwRatio = newRatio(ns.CountWindow.FailureRatio)
	}
	if ns.TimeWindow.Length > 0 {
		r.twRatio = newRatio(ns.TimeWindow.FailureRatio)
	}
	if ns.SlowCall.Duration > 0 {
		r.slowRatio = newRatio(ns.SlowCall.Ratio)
	}
	b.rules = r
	b.threshold.Store(int64(max(ns.FailureThreshold, 0)))
	b.slowOn.Store(ns.SlowCall.Duration > 0)
}

// now is the clock's time in ns since the breaker's epoch.
func (b *Breaker) now() int64 { return int64(b.o.clock.Now().Sub(b.epoch)) }

// at turns ns since the epoch back into a wall time.
func (b *Breaker) at(ns int64) time.Time { return b.epoch.Add(time.Duration(ns)).Round(0) }

// Allow asks to make a call. On success it returns a ticket to pass to Done
// exactly once when the call ends. Otherwise it returns an error matching
// ErrOpen (and ErrForcedOpen or ErrTooManyProbes when that is why), and the
// call must not be made. Allocation-free; in the CLOSED fast path it is a
// single atomic load.
func (b *Breaker) Allow() (ticket uint64, err error) {
	// The common case first: one atomic load, no clock, no lock.
	if w := b.word.Load(); w&modeMask == modeFast {
		return w >> genShift << ticketGenShift, nil // makeTicket(w, 0, 0)
	}
	return b.allow()
}

func (b *Breaker) allow() (uint64, error) {
	w := b.word.Load()
	switch modeOf(w) {
	case modeFast:
		return makeTicket(w, 0, 0), nil
	case modeClosed:
		if b.slowOn.Load() {
			return makeTicket(w, 0, micros(b.now())), nil
		}
		return makeTicket(w, 0, 0), nil
	case modeOpen, modeForcedOpen:
		if b.now() < b.nextProbe.Load() {
			b.rejected.Add(1)
			if modeOf(w) == modeForcedOpen {
				return 0, &b.rejects[rejectForced]
			}
			return 0, &b.rejects[rejectOpen]
		}
	}
	return b.allowSlow()
}

// Done reports the end of a call allowed with ticket. A nil err is a
// Success; any other is classified by the Classifier. Outcomes of tickets issued
// before the latest transition are dropped and only counted in
// Totals.Dropped. Allocation-free; lock-free in the CLOSED fast path.
func (b *Breaker) Done(ticket uint64, err error) {
	// The common case first: a success in the fast path with no failure
	// run to clear is one atomic load and one atomic add.
	if w := b.word.Load(); err == nil && w&(modeMask|consecMask) == modeFast && sameGen(ticket, w) {
		b.successes.Add(1)
		return
	}
	b.done(ticket, err)
}

func (b *Breaker) done(ticket uint64, err error) {
	if err == nil {
		b.record(ticket, Success)
		return
	}
	b.record(ticket, b.o.classify(err))
}

// Record is Done for callers that classify the outcome themselves, such as
// with breakergrpc.ClassifyCall, which also needs the caller's context.
func (b *Breaker) Record(ticket uint64, o Outcome) {
	b.record(ticket, o)
}

func (b *Breaker) record(t uint64, o Outcome) {
	w := b.word.Load()
	if modeOf(w) != modeFast || !sameGen(t, w) {
		b.doneSlow(t, o)
		return
	}
	switch o {
	case Success:
		b.successes.Add(1)
		if w&consecMask != 0 {
			b.clearConsec(w)
		}
	case Ignored:
		b.ignored.Add(1)
	default:
		b.failures.Add(1)
		b.successesAtFail.Store(b.successes.Load())
		b.countFailure(w)
	}
}

// clearConsec zeroes the consecutive failures after a success unless a
// transition got there first.
func (b *Breaker) clearConsec(w uint64) {
	for w&consecMask != 0 && !b.word.CompareAndSwap(w, w&^consecMask) {
		nw := b.word.Load()
		if nw>>genShift != w>>genShift {
			return
		}
		w = nw
	}
}

// countFailure adds a consecutive failure in the fast path and trips at the
// threshold.
func (b *Breaker) countFailure(w uint64) {
	for {
		n := w
		if consecOf(w) < consecMaxVal {
			n += consecOne
		}
		if b.word.CompareAndSwap(w, n) {
			if t := b.threshold.Load(); t > 0 && int64(consecOf(n)) >= t {
				b.tripFast(n)
			}
			return
		}
		nw := b.word.Load()
		if nw>>genShift != w>>genShift || modeOf(nw) != modeFast {
			return // a transition won; the failure belongs to the old spell
		}
		w = nw
	}
}

// tripFast opens the breaker if the word still shows the threshold reached
// in the same generation as n.
func (b *Breaker) tripFast(n uint64) {
	now := b.now()
	b.mu.Lock()
	defer b.unlock()
	w := b.word.Load()
	if t := b.threshold.Load(); w>>genShift == n>>genShift && modeOf(w) == modeFast && t > 0 && int64(consecOf(w)) >= t {
		b.tripLocked(now, ReasonConsecutive)
	}
}

// Execute runs fn if Allow permits, reports its error to Done and returns
// it, or returns Allow's rejection without running fn. If fn panics (or
// calls runtime.Goexit) the call is recorded as a failure and the panic
// continues with its original stack.
func (b *Breaker) Execute(fn func() error) error {
	t, err := b.Allow()
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished {
			b.record(t, Failure)
		}
	}()
	err = fn()
	finished = true
	b.Done(t, err)
	return err
}

// recoveryWaitLocked returns the wait before the next probe for a trip now,
// applying Backoff, and marks the jitter sample used.
// longestWaitLocked returns the longest recovery wait recoveryWaitLocked
// can return under the current settings, whatever the streak and jitter.
func (b *Breaker) longestWaitLocked() int64 {
	bo := b.s.Backoff
	d := float64(b.s.RecoveryTimeout) * (1 + max(bo.Jitter, 0))
	if bo.Multiplier > 1 {
		d = math.Inf(1)
	}
	if bo.Max > 0 && d > float64(bo.Max) {
		d = float64(bo.Max)
	}
	return int64(min(d, float64(MaxDuration)))
}

func (b *Breaker) recoveryWaitLocked() int64 {
	bo := b.s.Backoff
	d := float64(b.s.RecoveryTimeout)
	if bo.Multiplier > 1 {
		d *= math.Pow(bo.Multiplier, float64(b.streak))
	}
	if bo.Jitter > 0 {
		d *= 1 + bo.Jitter*(2*b.jitter-1)
		b.jitterUsed = true
	}
	if bo.Max > 0 && d > float64(bo.Max) {
		d = float64(bo.Max)
	}
	return int64(d)
}
