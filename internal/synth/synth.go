package synth

import (
	"fmt"
	"io"
	"math"
	"time"
)

// Cadences are the sampling intervals compared.
var Cadences = []time.Duration{time.Second, time.Minute, 5 * time.Minute, time.Hour}

// Scenario is one injected anomaly (or none).
type Scenario string

// Scenarios. Sizes are in noise standard deviations (0.5).
const (
	Clean    Scenario = "clean"   // no anomaly: false positives only
	Shift    Scenario = "shift"   // level +6 sd from the start on (issue 18 item 5)
	Spike    Scenario = "spike"   // one sample +20 sd
	Stuck    Scenario = "stuck"   // the value freezes for 6 h
	Pattern  Scenario = "pattern" // the daily sine inverts for a day
	Drift    Scenario = "drift"   // a ramp of +2 sd per hour for 6 h
	StartDay          = 10        // anomalies start at this day, 00:00 UTC
	Days              = 13        // series length
	// Window is how long after the start a flag counts as a detection;
	// flags outside it are false positives.
	Window = 24 * time.Hour
)

// Scenarios lists every scenario, Clean first.
var Scenarios = []Scenario{Clean, Shift, Spike, Stuck, Pattern, Drift}

const (
	noiseSD = 0.5
	epoch   = int64(1_700_006_400e9) // 2023-11-15 00:00 UTC
	day     = 24 * time.Hour
)

// Value returns scenario s's value at offset t from the series start; g
// supplies the noise (one draw per call).
func Value(s Scenario, t time.Duration, g *Gauss, last float64) float64 {
	start := StartDay * day
	base := 10 + 3*math.Sin(2*math.Pi*float64(t%day)/float64(day))
	noise := noiseSD * g.Next()
	in := t >= start
	since := t - start
	switch {
	case s == Shift && in:
		base += 6 * noiseSD
	case s == Spike && since == 0:
		base += 20 * noiseSD
	case s == Stuck && in && since < 6*time.Hour:
		return last
	case s == Pattern && in && since < day:
		base = 20 - base
	case s == Drift && in:
		base += 2 * noiseSD * min(since.Hours(), 6)
	}
	return base + noise
}

// Gauss is a deterministic standard normal generator (an LCG through
// Box-Muller), so results do not depend on math/rand's versions.
type Gauss struct {
	state uint64
	spare float64
	has   bool
}

// NewGauss returns a generator for seed.
func NewGauss(seed uint64) *Gauss { return &Gauss{state: seed*2654435761 + 1} }

func (g *Gauss) uniform() float64 {
	g.state = g.state*6364136223846793005 + 1442695040888963407
	return (float64(g.state>>11) + 0.5) / (1 << 53)
}

// Next returns the next draw.
func (g *Gauss) Next() float64 {
	if g.has {
		g.has = false
		return g.spare
	}
	u, v := g.uniform(), g.uniform()
	r := math.Sqrt(-2 * math.Log(u))
	g.spare, g.has = r*math.Sin(2*math.Pi*v), true
	return r * math.Cos(2*math.Pi*v)
}

// Detect feeds one sample to a detector and reports whether it flagged it.
type Detect func(unixNanos int64, v float64) bool

// Row is one cadence and scenario's outcome.
type Row struct {
	Cadence  time.Duration
	Scenario Scenario
	// Delay is the time from the anomaly's start to the first flag within
	// Window; negative when missed (and for Clean).
	Delay time.Duration
	// FalsePerDay is the flags outside the window per day of scored data
	// (after the first day, when detectors may still be learning).
	FalsePerDay float64
}

// Run feeds every scenario at every cadence to a fresh detector from
// newDetect and returns one row per pair.
func Run(newDetect func() Detect) []Row {
	var rows []Row
	for _, c := range Cadences {
		for i, s := range Scenarios {
			rows = append(rows, run(newDetect(), c, s, uint64(i)))
		}
	}
	return rows
}

func run(det Detect, cadence time.Duration, s Scenario, seed uint64) Row {
	g := NewGauss(seed)
	row := Row{Cadence: cadence, Scenario: s, Delay: -1}
	start := StartDay * day
	false_, last := 0, 0.0
	for t := time.Duration(0); t < Days*day; t += cadence {
		v := Value(s, t, g, last)
		last = v
		if !det(epoch+int64(t), v) || t < day {
			continue
		}
		if s != Clean && t >= start && t < start+Window {
			if row.Delay < 0 {
				row.Delay = t - start
			}
			continue
		}
		false_++
	}
	row.FalsePerDay = float64(false_) / float64(Days-1)
	return row
}

// Table writes rows as a table: one line per cadence, per scenario the
// detection delay ("-" when missed), then the false positives per day
// over all scenarios.
func Table(w io.Writer, rows []Row) {
	fmt.Fprintf(w, "%-8s", "cadence")
	for _, s := range Scenarios[1:] {
		fmt.Fprintf(w, " %9s", s)
	}
	fmt.Fprintf(w, " %12s\n", "false/day")
	for _, c := range Cadences {
		fmt.Fprintf(w, "%-8s", c)
		fp, n := 0.0, 0
		for _, r := range rows {
			if r.Cadence != c {
				continue
			}
			fp += r.FalsePerDay
			n++
			if r.Scenario == Clean {
				continue
			}
			fmt.Fprintf(w, " %9s", short(r.Delay))
		}
		fmt.Fprintf(w, " %12.2f\n", fp/float64(max(n, 1)))
	}
}

// short formats a delay compactly: seconds, minutes or hours; "-" when
// missed.
func short(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%.0fm", d.Minutes())
	}
	return fmt.Sprintf("%.1fh", d.Hours())
}
