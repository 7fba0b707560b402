package heuristic

import (
	"errors"
	"math"
	"strings"
)

// Limit is a low and/or high limit on a channel's value. A zero Limit checks
// nothing; use Above, Below, Within or Abs to build one.
type Limit struct {
	Low, High           float64
	CheckLow, CheckHigh bool
}

// Within returns a limit violated outside [low, high].
func Within(low, high float64) Limit { return Limit{low, high, true, true} }

// Above returns a limit violated above high.
func Above(high float64) Limit { return Limit{High: high, CheckHigh: true} }

// Below returns a limit violated below low.
func Below(low float64) Limit { return Limit{Low: low, CheckLow: true} }

// Abs returns a limit violated when |v| exceeds max.
func Abs(max float64) Limit { return Within(-max, max) }

// Violated reports whether v breaks the limit.
func (l Limit) Violated(v float64) bool { return l.violated(v) }

// violated reports whether v breaks the limit.
func (l Limit) violated(v float64) bool {
	return (l.CheckLow && v < l.Low) || (l.CheckHigh && v > l.High)
}

// Valid reports whether the limit is usable: no NaN bound, low <= high.
func (l Limit) Valid() bool { return l.Check() == nil }

// Check says why the limit is unusable, in the configuration file's words
// ("NaN bound", "min above max"); nil when it is usable.
func (l Limit) Check() error {
	switch {
	case l.CheckLow && math.IsNaN(l.Low) || l.CheckHigh && math.IsNaN(l.High):
		return errors.New("NaN bound")
	case l.CheckLow && l.CheckHigh && l.Low > l.High:
		return errors.New("min above max")
	}
	return nil
}

// PresetLimits returns the seed's spacecraft limits, keyed by channel:
// voltage outside [7, 9], temperature above 40 and |gyro| above 0.1. It
// returns a fresh map each call, so callers may extend it.
func PresetLimits() map[string]Limit {
	return map[string]Limit{
		"voltage":     Within(7, 9),
		"temperature": Above(40),
		"gyro":        Abs(0.1),
	}
}

// Channel returns the channel name of a series id: the part after the last
// '/' or '.', e.g. "sat1/voltage" -> "voltage", "sat1.bus.voltage" ->
// "voltage".
func Channel(seriesID string) string {
	return seriesID[strings.LastIndexAny(seriesID, "/.")+1:]
}
