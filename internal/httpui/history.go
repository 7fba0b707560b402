package httpui

import (
	"context"
	"iter"
	"math"
	"slices"
	"sync"
	"time"
)

// History bounds: one step per tick (a second by default) for an hour, for
// at most maxHistorySeries breakers and as many traffic categories, so
// the history never holds more than 2 x 64 x 3600 x 4 bytes (1.8 MB);
// a service has a few breakers and about a dozen categories (~200 KB).
const (
	historySteps     = 3600
	maxHistorySeries = 64
	recentSteps      = 5 // steps each state event repeats, so a page misses none
)

// series is one counter's history: the count per step, in a ring.
type series struct {
	last  uint64   // the cumulative count at the last step
	steps []uint32 // per-step increases, a ring ending at next-1
}

// history keeps per-step increases of named cumulative counters.
type history struct {
	mu     sync.Mutex
	at     time.Time          // guarded by mu; the newest step's time
	n      int                // guarded by mu; steps taken, at most historySteps
	next   int                // guarded by mu; ring index of the next step
	series map[string]*series // guarded by mu
}

func newHistory() *history { return &history{series: make(map[string]*series)} }

// step records one step at now from the cumulative counts; a name
// first seen starts at zero (its count before is not this step's), and a
// name not reported in this step gets zero.
func (h *history) step(now time.Time, counts iter.Seq2[string, uint64]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := make(map[string]bool, len(h.series))
	for name, total := range counts {
		s := h.series[name]
		if s == nil {
			if len(h.series) >= maxHistorySeries {
				continue
			}
			s = &series{last: total, steps: make([]uint32, historySteps)}
			h.series[name] = s
		}
		d := uint64(0)
		if total > s.last {
			d = total - s.last
		}
		s.steps[h.next] = uint32(min(d, math.MaxUint32))
		s.last = total
		seen[name] = true
	}
	for name, s := range h.series {
		if !seen[name] {
			s.steps[h.next] = 0
		}
	}
	h.next = (h.next + 1) % historySteps
	h.n = min(h.n+1, historySteps)
	h.at = now
}

// historyView is the JSON of a history: per name, the increase in each
// step, oldest first, the last one ending At; names whose steps are all
// zero are left out.
type historyView struct {
	At          time.Time           `json:"at"`
	StepSeconds float64             `json:"step_seconds"`
	Series      map[string][]uint32 `json:"series"`
}

// view returns the last k steps (all with k <= 0).
func (h *history) view(k int, step time.Duration) historyView {
	h.mu.Lock()
	defer h.mu.Unlock()
	if k <= 0 || k > h.n {
		k = h.n
	}
	v := historyView{At: h.at, StepSeconds: step.Seconds(), Series: make(map[string][]uint32, len(h.series))}
	for name, s := range h.series {
		out := make([]uint32, k)
		for i := range k {
			out[i] = s.steps[(h.next-k+i+historySteps)%historySteps]
		}
		if slices.ContainsFunc(out, func(x uint32) bool { return x != 0 }) {
			v.Series[name] = out
		}
	}
	return v
}

// Run samples the breakers' fallbacks (refused plus failed calls) and
// the verdict traffic every tick until ctx is done, so the page's charts
// come from the server: a reload keeps the last hour.
func (u *UI) Run(ctx context.Context, b Breakers) {
	t := time.NewTicker(u.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			u.sample(u.clock.Now(), b)
		}
	}
}

// sample takes one history step of every counter at now.
func (u *UI) sample(now time.Time, b Breakers) {
	u.fallbacks.step(now, func(yield func(string, uint64) bool) {
		for _, s := range b.Snapshot() {
			if !yield(s.Name, s.Totals.Rejected+s.Totals.Failures) {
				return
			}
		}
	})
	if u.anomalies != nil {
		u.traffic.step(now, u.anomalies.Traffic())
	}
}

// historyEvent is the JSON of /api/history and, with the last few steps
// only, of each state event's "recent" field.
type historyEvent struct {
	Fallbacks historyView `json:"fallbacks"` // by breaker
	Traffic   historyView `json:"traffic"`   // verdicts by source and fallback reason
}

func (u *UI) historyOf(k int) historyEvent {
	return historyEvent{Fallbacks: u.fallbacks.view(k, u.tick), Traffic: u.traffic.view(k, u.tick)}
}
