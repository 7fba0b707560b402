package synth

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Labelled is one generated series: values one per cadence from midnight
// UTC, the first NTrain of them anomaly-free history.
type Labelled struct {
	Spec
	Cadence time.Duration
	Values  []float64
	NTrain  int
	// Start and End are the first and last rows (inclusive, over the whole
	// series) whose values the anomaly changed or may change; Label is the
	// labelled range, [Start, End] plus Grace (within the series). All are -1
	// for NoAnomaly.
	Start, End int
	Label      [2]int
}

// Sizes of each anomaly type per Size (hard, medium, easy), in the family's
// units (noise standard deviation, level gap or quantum).
var (
	shiftSize     = [3]float64{2, 4, 8}     // level added
	spikeSize     = [3]float64{4, 8, 16}    // added for 1-3 samples
	varianceSize  = [3]float64{1.5, 2.5, 5} // noise standard deviation multiplied
	frequencySize = [3]float64{1.2, 1.5, 2.5}
	growSize      = [3]float64{1.5, 2.2, 4}
	shrinkSize    = [3]float64{0.6, 0.3, 0}
	slopeSize     = [3]float64{3, 6, 12} // level reached at the end of the ramp
	stuckFor      = [3]time.Duration{30 * time.Minute, 2 * time.Hour, 8 * time.Hour}
	dutySize      = [3]float64{1.5, 2.5, 5} // a dwell multiplied or divided
	invertAmp     = [3]float64{1.5, 3, 6}   // wave amplitude of an inverted series
	invertPeriods = [3]float64{1.5, 3, 6}   // periods a square wave stays inverted
)

const (
	arCoef    = 0.99
	modeCount = 4
	squareDut = 0.4
)

// params are a series' random constants, drawn in a fixed order whatever
// its kind, so a series and its anomaly-free twin share them.
type params struct {
	offset, scale, phase, amp, period, slope, dir float64
	startU, durU                                  float64
	spikeLen, modeState                           int
}

func draw(s Spec) params {
	g := NewGauss(s.Seed)
	p := params{offset: g.between(-100, 100), scale: math.Pow(10, g.between(-1.5, 1.5)), phase: g.uniform(),
		amp: g.between(3, 6)}
	jitter := g.between(0.95, 1.05)
	pick := g.uniform()
	p.slope = g.sign() * g.between(0.5, 1.5)
	p.dir = g.sign()
	p.startU, p.durU = g.uniform(), g.uniform()
	p.spikeLen = 1 + int(3*g.uniform())
	p.modeState = int(modeCount * g.uniform())
	switch s.Family {
	case Orbit20m:
		p.period = 20 * 60 * jitter
	case Orbit95m, Sawtooth:
		p.period = 95 * 60 * jitter
	case Wave6h:
		p.period = 6 * 3600 * jitter
	case Daily, Quantised:
		p.period = 86400
	case SquareWave:
		p.period = []float64{30 * 60, 95 * 60, 3 * 3600}[int(3*pick)] * jitter
	}
	switch s.Family {
	case SquareWave:
		p.amp = 1
	case Sawtooth:
		p.amp *= 2
	}
	if s.Kind == Inversion && s.Family != SquareWave {
		p.amp = invertAmp[s.Size]
	}
	return p
}

// MinCadence is the shortest cadence Generate takes: a series is
// (TrainDays+TestDays) days long, about a million values at 1s, and a
// shorter cadence multiplies them (1ns asked for 10^15).
const MinCadence = time.Second

// Generate builds series s sampled every cadence: (TrainDays+TestDays)
// days of values and the anomaly's rows and label. It is deterministic.
func Generate(s Spec, cadence time.Duration) (Labelled, error) {
	if cadence < MinCadence || cadence > time.Hour {
		return Labelled{}, fmt.Errorf("generate %s: cadence %v: want [%v, 1h]", s.ID(), cadence, MinCadence)
	}
	if !Applies(s.Kind, s.Family) || s.Size < Hard || s.Size > Easy {
		return Labelled{}, fmt.Errorf("generate %s: no such series", s.ID())
	}
	return generate(s, cadence, true), nil
}

// Twin is s's anomaly-free twin at cadence: the values s would have shown
// without its anomaly (the same noise and constants), with s's rows and
// label kept, so flags on it that overlap the label are hits by chance.
func Twin(s Spec, cadence time.Duration) (Labelled, error) {
	l, err := Generate(s, cadence)
	if err != nil {
		return Labelled{}, err
	}
	l.Values = generate(s, cadence, false).Values
	return l, nil
}

// window places the anomaly: its first and last row.
func window(s Spec, p params, cadence time.Duration) (int, int) {
	const day = 24 * time.Hour
	period := time.Duration(p.period * float64(time.Second))
	d := time.Hour + time.Duration(p.durU*float64(11*time.Hour))
	switch s.Kind {
	case Flatline:
		d = stuckFor[s.Size]
	case FrequencyChange:
		d = max(d, period*3/2)
	case Inversion:
		d = max(d, period*3/2)
		if s.Family == SquareWave {
			d = time.Duration(invertPeriods[s.Size] * float64(period))
		}
	case DutyCycle:
		d = 6*time.Hour + time.Duration(p.durU*float64(18*time.Hour))
		if s.Family == SquareWave {
			d = max(d, 4*period)
		}
	}
	lo := TrainDays*day + 6*time.Hour
	hi := (TrainDays+TestDays)*day - 6*time.Hour - d
	start := lo + time.Duration(p.startU*float64(hi-lo))
	first := int((start + cadence - 1) / cadence)
	rows := max(1, int(math.Round(float64(d)/float64(cadence))))
	if s.Kind == SpikeDip {
		rows = p.spikeLen
	}
	return first, first + rows - 1
}

// generate builds s; without inject it is s's anomaly-free twin (the same
// noise, constants and window).
func generate(s Spec, cadence time.Duration, inject bool) Labelled {
	out := generateBase(s, cadence, inject)
	p := draw(s)
	for i, v := range out.Values {
		out.Values[i] = p.offset + p.scale*v
	}
	return out
}

// generateBase is generate in the family's units, before the series'
// offset and scale.
func generateBase(s Spec, cadence time.Duration, inject bool) Labelled {
	const day = 24 * time.Hour
	n := int((TrainDays + TestDays) * day / cadence)
	out := Labelled{Spec: s, Cadence: cadence, Values: make([]float64, n), NTrain: int(TrainDays * day / cadence),
		Start: -1, End: -1, Label: [2]int{-1, -1}}
	p := draw(s)
	first, last := window(s, p, cadence)
	var dropLevel float64
	if inject && (s.Kind == Flatline || s.Kind == Dropout) {
		// A held value must differ from what the series would have shown:
		// on a few-valued or quantised series the window starts at the next
		// row where it does (a transition, or a value other than the
		// dropout's), so the label never marks an unchanged stretch.
		twin := generateBase(s, cadence, false).Values
		dropLevel = dropoutLevel(twin[max(0, first-int(day/cadence)):first], s.Size)
		j := first
		for j < n-1 && (s.Kind == Flatline && twin[j] == twin[j-1] || s.Kind == Dropout && twin[j] == dropLevel) {
			j++
		}
		first, last = j, min(n-1, last+j-first)
	}
	if s.Kind != NoAnomaly {
		out.Start, out.End = first, last
		out.Label = [2]int{first, min(last+int(Grace/cadence), n-1)}
	}
	noise, extra := make([]float64, n), make([]float64, n)
	gn, ge := NewGauss(mix(s.Seed+1)), NewGauss(mix(s.Seed+2))
	if s.Kind != VarianceChange {
		ge = nil // extra stays 0: only a variance change adds it
	}
	for i := range n {
		switch s.Family {
		case WhiteStudent:
			noise[i] = gn.Student()
		case WhiteLaplace:
			noise[i] = gn.Laplace()
		default:
			noise[i] = gn.Next()
		}
		if ge != nil {
			extra[i] = ge.Next()
		}
	}
	if s.Family == AR1 {
		x := noise[0] / math.Sqrt(1-arCoef*arCoef)
		for i := range n {
			if i > 0 {
				x = arCoef*x + noise[i]
			}
			noise[i] = x
		}
	}
	var modes, alt []int
	if s.Family == Modes {
		modes = modePath(NewGauss(mix(s.Seed+3)), n, cadence, -1, 1)
		if s.Kind == DutyCycle {
			f := dutySize[s.Size]
			if p.dir < 0 {
				f = 1 / f
			}
			// The altered path starts in the clean path's state at the first
			// row and returns to the clean path after the last.
			alt = modePath(NewGauss(mix(s.Seed+4)), last-first+1, cadence, p.modeState, f)
			shift := modes[first] - alt[0]
			for i := range alt {
				alt[i] = ((alt[i]+shift)%modeCount + modeCount) % modeCount
			}
		}
	}
	sd := 1.0
	switch {
	case discrete(s.Family):
		sd = 0
	case s.Family == Quantised:
		sd = 0.3
	}
	sec := cadence.Seconds()
	for i := range n {
		in := inject && s.Kind != NoAnomaly && i >= first && i <= last
		t := float64(i) * sec
		v := base(s, p, i, t, in, first, sec, noise, sd, modes, alt)
		if in {
			k := s.Size
			switch s.Kind {
			case LevelShift:
				v += p.dir * shiftSize[k]
			case SpikeDip:
				v += p.dir * spikeSize[k]
			case SlopeChange:
				v += p.dir * slopeSize[k] * float64(i-first+1) / float64(last-first+1)
			case VarianceChange:
				v += math.Sqrt(varianceSize[k]*varianceSize[k]-1) * sd * extra[i]
			}
		}
		if s.Family == Quantised {
			v = math.Round(v)
		}
		if in && s.Kind == Flatline {
			v = out.Values[first-1]
		}
		if in && s.Kind == Dropout {
			v = dropLevel
		}
		out.Values[i] = v
	}
	return out
}

// base is the family's value at row i (time t seconds from the start),
// with the anomalies that change the waveform applied while in.
func base(s Spec, p params, i int, t float64, in bool, first int, sec float64, noise []float64, sd float64, modes, alt []int) float64 {
	switch s.Family {
	case WhiteGauss, WhiteStudent, WhiteLaplace, AR1:
		return noise[i]
	case Trend:
		return p.slope*t/86400 + noise[i]
	case Modes:
		if in && alt != nil {
			return float64(alt[i-first])
		}
		return float64(modes[i])
	}
	cyc := t/p.period + p.phase
	amp, duty := p.amp, squareDut
	if in {
		k := s.Size
		switch s.Kind {
		case FrequencyChange:
			f := frequencySize[k]
			if p.dir < 0 {
				f = 1 / f
			}
			ts := float64(first) * sec
			cyc = ts/p.period + p.phase + f*(t-ts)/p.period
		case AmplitudeChange:
			if p.dir > 0 {
				amp *= growSize[k]
			} else {
				amp *= shrinkSize[k]
			}
		case DutyCycle:
			if p.dir > 0 {
				duty = 1 - (1-squareDut)/dutySize[k]
			} else {
				duty = squareDut / dutySize[k]
			}
		}
	}
	frac := cyc - math.Floor(cyc)
	var w float64
	switch s.Family {
	case Sawtooth:
		w = frac - 0.5
	case SquareWave:
		if frac < duty {
			w = 1
		}
		if in && s.Kind == Inversion {
			w = 1 - w
		}
		return amp * w
	default:
		w = math.Sin(2 * math.Pi * cyc)
	}
	if in && s.Kind == Inversion {
		w = -w
	}
	return amp*w + sd*noise[i]
}

// modePath is n rows of a four-state channel: each dwell lasts 20 min to 2 h
// (times f in state slow), then a different state is drawn at random. It
// starts in state 0 at the start of a dwell.
func modePath(g *Gauss, n int, cadence time.Duration, slow int, f float64) []int {
	out := make([]int, n)
	state := 0
	for i := 0; i < n; {
		d := g.between(20*60, 2*3600)
		if state == slow {
			d *= f
		}
		rows := max(1, int(math.Round(d/cadence.Seconds())))
		for j := i; j < min(n, i+rows); j++ {
			out[j] = state
		}
		i += rows
		state = (state + 1 + int(float64(modeCount-1)*g.uniform())) % modeCount
	}
	return out
}

// dropoutLevel is the constant a dropout holds, from the day before it:
// its median (inside the normal range: hard), its minimum (the
// edge of the range) or the minimum less the range (far outside: easy).
func dropoutLevel(history []float64, k Size) float64 {
	h := slices.Clone(history)
	slices.Sort(h)
	lo, hi := h[0], h[len(h)-1]
	switch k {
	case Hard:
		return h[len(h)/2]
	case Medium:
		return lo
	}
	return lo - max(hi-lo, 1)
}
