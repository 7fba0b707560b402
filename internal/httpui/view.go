package httpui

import (
	"time"

	"github.com/astraguard/astraguard/breaker"
)

// stateEvent is the JSON of one "state" event and of /api/breakers.
type stateEvent struct {
	At       time.Time     `json:"at"`
	Breakers []breakerView `json:"breakers"`
	// Recent repeats the history's last steps, so a page extends the
	// history it fetched from /api/history without missing one.
	Recent historyEvent `json:"recent"`
}

type breakerView struct {
	Name           string           `json:"name"`
	State          string           `json:"state"`    // CLOSED, OPEN or HALF_OPEN
	Override       string           `json:"override"` // NONE, FORCED_OPEN or FORCED_CLOSED
	OverrideReason string           `json:"override_reason,omitempty"`
	OverrideExpiry *time.Time       `json:"override_expiry,omitempty"`
	NextProbe      *time.Time       `json:"next_probe,omitempty"`
	FailureRatio   float64          `json:"failure_ratio"` // of the breaker's window
	WindowCalls    int              `json:"window_calls"`
	Successes      uint64           `json:"successes"`
	Failures       uint64           `json:"failures"`
	Rejected       uint64           `json:"rejected"`
	Trips          uint64           `json:"trips"`
	Transitions    []transitionView `json:"transitions"` // newest first
}

type transitionView struct {
	From     string    `json:"from"`
	To       string    `json:"to"`
	Override string    `json:"override"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

func (u *UI) state(b Breakers) stateEvent {
	snaps := b.Snapshot()
	ev := stateEvent{At: u.clock.Now(), Breakers: make([]breakerView, 0, len(snaps)), Recent: u.historyOf(recentSteps)}
	for _, s := range snaps {
		v := breakerView{
			Name: s.Name, State: s.State.String(), Override: s.Forced.String(), OverrideReason: s.ForceReason,
			OverrideExpiry: timePtr(s.ForceExpiry), NextProbe: timePtr(s.NextProbe),
			WindowCalls: s.Window.Calls, Successes: s.Totals.Successes, Failures: s.Totals.Failures,
			Rejected: s.Totals.Rejected, Trips: s.Totals.Trips, Transitions: []transitionView{},
		}
		if s.Window.Calls > 0 {
			v.FailureRatio = float64(s.Window.Failures) / float64(s.Window.Calls)
		}
		for _, t := range u.recent(s.Name) {
			v.Transitions = append(v.Transitions, transitionToView(t))
		}
		ev.Breakers = append(ev.Breakers, v)
	}
	return ev
}

func transitionToView(t breaker.Transition) transitionView {
	return transitionView{From: t.From.String(), To: t.To.String(), Override: t.Forced.String(), Reason: t.Reason, At: t.At}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
