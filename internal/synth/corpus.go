package synth

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Family is the base signal of a generated series. Every family is in
// units of its noise (standard deviation 1), or of its level gap or quantum
// where it has one, before the series' own offset and scale are applied.
type Family string

// Families of base signals (see the package doc).
const (
	WhiteGauss   Family = "gauss"     // Gaussian white noise
	WhiteStudent Family = "student"   // Student-t(3) white noise, unit variance
	WhiteLaplace Family = "laplace"   // Laplace white noise, unit variance
	AR1          Family = "ar1"       // AR(1) with coefficient 0.99 per sample: close to a random walk
	Orbit20m     Family = "orbit20m"  // sine of period 20 min (±5%) and amplitude 3-6, plus Gaussian noise
	Orbit95m     Family = "orbit95m"  // the same at 95 min, a low Earth orbit
	Wave6h       Family = "wave6h"    // the same at 6 h
	Daily        Family = "daily"     // the same at exactly one UTC day
	SquareWave   Family = "square"    // two values (gap 1), period 30 min, 95 min or 3 h, duty 0.4, no noise
	Modes        Family = "modes"     // four values 0-3, a random next state after a dwell of 20 min to 2 h, no noise
	Quantised    Family = "quantised" // a daily wave (amplitude 3-6) plus noise of 0.3, rounded to a quantum of 1
	Trend        Family = "trend"     // a linear trend of 0.5-1.5 per day plus Gaussian noise
	Sawtooth     Family = "sawtooth"  // a ramp over 95 min (±5%) of height 6-12, then a drop, plus Gaussian noise
)

// Families lists every family in corpus order.
var Families = []Family{WhiteGauss, WhiteStudent, WhiteLaplace, AR1, Orbit20m, Orbit95m, Wave6h, Daily,
	SquareWave, Modes, Quantised, Trend, Sawtooth}

// Kind is an injected anomaly type.
type Kind string

// Anomaly types (see the package doc for their sizes).
const (
	NoAnomaly       Kind = "none"
	LevelShift      Kind = "shift"
	SpikeDip        Kind = "spike"
	VarianceChange  Kind = "variance"
	FrequencyChange Kind = "frequency"
	AmplitudeChange Kind = "amplitude"
	SlopeChange     Kind = "slope"
	Flatline        Kind = "stuck"
	Dropout         Kind = "dropout"
	DutyCycle       Kind = "duty"
	Inversion       Kind = "inversion"
)

// Kinds lists every anomaly type, NoAnomaly last.
var Kinds = []Kind{LevelShift, SpikeDip, VarianceChange, FrequencyChange, AmplitudeChange, SlopeChange, Flatline,
	Dropout, DutyCycle, Inversion, NoAnomaly}

// Size grades an anomaly from hard to easy to detect.
type Size int

// Sizes.
const (
	Hard Size = iota
	Medium
	Easy
)

// Sizes lists the sizes, hardest first.
var Sizes = []Size{Hard, Medium, Easy}

func (s Size) String() string {
	switch s {
	case Hard:
		return "hard"
	case Medium:
		return "medium"
	case Easy:
		return "easy"
	}
	return fmt.Sprintf("size(%d)", int(s))
}

// Corpus shape: every series holds TrainDays of anomaly-free history, then
// TestDays that are scored; an anomaly starts in the test days, at least 6 h
// after their start and ends at least 6 h before their end.
const (
	TrainDays = 8
	TestDays  = 4
	// Grace is how long after an anomaly's last row its label goes on, so a
	// flag on the return to normal is part of the event, not a false alarm.
	Grace = 30 * time.Minute
)

// periodic reports whether f has a waveform whose period, amplitude and
// phase an anomaly can change.
func periodic(f Family) bool {
	switch f {
	case Orbit20m, Orbit95m, Wave6h, Daily, SquareWave, Quantised, Sawtooth:
		return true
	}
	return false
}

// discrete reports whether f takes a handful of noise-free values.
func discrete(f Family) bool { return f == SquareWave || f == Modes }

// Applies reports whether anomaly type k is injected into family f.
func Applies(k Kind, f Family) bool {
	switch k {
	case NoAnomaly, LevelShift, SpikeDip, Flatline, Dropout:
		return true
	case VarianceChange, SlopeChange:
		return !discrete(f)
	case FrequencyChange, AmplitudeChange, Inversion:
		return periodic(f)
	case DutyCycle:
		return discrete(f)
	}
	return false
}

// Spec names one series of the corpus.
type Spec struct {
	Family Family
	Kind   Kind
	Size   Size // Hard for NoAnomaly
	Rep    int  // replicate, from 0
	Seed   uint64
}

// ID is the series' name: kind/family/size, with the replicate appended
// when it is not the first ("none/daily/hard" is the first anomaly-free
// daily series; "duty/modes/easy.2" the third easy duty-cycle change).
func (s Spec) ID() string {
	id := fmt.Sprintf("%s/%s/%s", s.Kind, s.Family, s.Size)
	if s.Rep > 0 {
		id += fmt.Sprintf(".%d", s.Rep)
	}
	return id
}

// replicates is how many series each (kind, family, size) gets: more for
// the rare duty-cycle change, and three anomaly-free series per family.
func replicates(k Kind) int {
	switch k {
	case DutyCycle, NoAnomaly:
		return 3
	}
	return 1
}

// Corpus lists the corpus' series for seed: every anomaly type in every
// family it applies to at every size, and anomaly-free series of every
// family. A series' own seed derives from seed and its ID, so adding
// series leaves the others unchanged.
func Corpus(seed uint64) []Spec {
	var out []Spec
	for _, k := range Kinds {
		sizes := Sizes
		if k == NoAnomaly {
			sizes = Sizes[:1]
		}
		for _, f := range Families {
			if !Applies(k, f) {
				continue
			}
			for _, sz := range sizes {
				for r := range replicates(k) {
					s := Spec{Family: f, Kind: k, Size: sz, Rep: r}
					h := fnv.New64a()
					h.Write([]byte(s.ID()))
					s.Seed = mix(seed ^ h.Sum64())
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// mix is splitmix64's finaliser: distinct streams from related seeds.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
