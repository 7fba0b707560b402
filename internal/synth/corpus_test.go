package synth

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestCorpusDeterministic: the same seed gives the same series, value for
// value; another seed gives other values.
func TestCorpusDeterministic(t *testing.T) {
	a, b := Corpus(1), Corpus(1)
	if !slices.Equal(a, b) {
		t.Fatal("Corpus(1) differs between calls")
	}
	ids := map[string]bool{}
	for _, s := range a {
		if ids[s.ID()] {
			t.Errorf("duplicate series %s", s.ID())
		}
		ids[s.ID()] = true
	}
	for _, i := range []int{0, len(a) / 2, len(a) - 1} {
		x, err := Generate(a[i], 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		y, _ := Generate(b[i], 5*time.Minute)
		if !slices.Equal(x.Values, y.Values) || x.Label != y.Label {
			t.Errorf("Generate(%s) differs between calls", a[i].ID())
		}
		other := Corpus(2)[i]
		if other.ID() != a[i].ID() {
			t.Fatalf("Corpus(2)[%d] = %s, want the same series list as Corpus(1)", i, other.ID())
		}
		z, _ := Generate(other, 5*time.Minute)
		if slices.Equal(x.Values, z.Values) {
			t.Errorf("%s: seeds 1 and 2 give the same values", a[i].ID())
		}
	}
}

// TestGenerateCadenceBounds: a cadence shorter than MinCadence is an
// error; 1ns asked for 10^15 values and panicked (makeslice: len out of
// range) in nabeval -synth -space-cadence 1ns.
func TestGenerateCadenceBounds(t *testing.T) {
	s := Corpus(1)[0]
	for _, c := range []time.Duration{time.Nanosecond, time.Millisecond, MinCadence - 1, 0, -time.Second, time.Hour + 1} {
		if _, err := Generate(s, c); err == nil {
			t.Errorf("Generate(%s, %v) = nil error, want one", s.ID(), c)
		}
		if _, err := Twin(s, c); err == nil {
			t.Errorf("Twin(%s, %v) = nil error, want one", s.ID(), c)
		}
	}
}

// TestCorpusCoverage: every kind appears at every size, every family has
// anomaly-free series, and nothing is generated where a kind does not apply.
func TestCorpusCoverage(t *testing.T) {
	n := map[Kind]map[Size]int{}
	clean := map[Family]int{}
	for _, s := range Corpus(1) {
		if !Applies(s.Kind, s.Family) {
			t.Errorf("%s: kind does not apply to the family", s.ID())
		}
		if n[s.Kind] == nil {
			n[s.Kind] = map[Size]int{}
		}
		n[s.Kind][s.Size]++
		if s.Kind == NoAnomaly {
			clean[s.Family]++
		}
	}
	for _, k := range Kinds[:len(Kinds)-1] {
		for _, sz := range Sizes {
			if n[k][sz] == 0 {
				t.Errorf("no %s series of size %s", k, sz)
			}
		}
	}
	for _, f := range Families {
		if clean[f] == 0 {
			t.Errorf("no anomaly-free %s series", f)
		}
	}
	if _, err := Generate(Spec{Family: Modes, Kind: VarianceChange}, time.Minute); err == nil {
		t.Error("Generate accepted a variance change on a noise-free mode channel")
	}
	if _, err := Generate(Corpus(1)[0], 0); err == nil {
		t.Error("Generate accepted cadence 0")
	}
}

// TestLabelsWhereTheAnomalyIs compares every series with its anomaly-free
// twin (the same noise and constants): they agree before Start and after
// End, differ somewhere in [Start, End] (at the first row for a held value),
// the label is [Start, End + Grace] inside the test split, and an
// anomaly-free series has no label. Every series at 5 min, every fifth at
// 1 min (the test's cost is the generation).
func TestLabelsWhereTheAnomalyIs(t *testing.T) {
	for _, cad := range []time.Duration{time.Minute, 5 * time.Minute} {
		if cad == time.Minute && testing.Short() {
			continue
		}
		for i, s := range Corpus(7) {
			if cad == time.Minute && i%5 != 0 {
				continue
			}
			got, err := Generate(s, cad)
			if err != nil {
				t.Fatal(err)
			}
			twin := generate(s, cad, false)
			if i%50 == 0 {
				tw, err := Twin(s, cad)
				if err != nil || tw.Label != got.Label || !slices.Equal(tw.Values, twin.Values) {
					t.Fatalf("Twin(%s): label %v, %v; want %v and the anomaly-free values", s.ID(), tw.Label, err, got.Label)
				}
			}
			if len(got.Values) != (TrainDays+TestDays)*24*int(time.Hour/cad) || got.NTrain != TrainDays*24*int(time.Hour/cad) {
				t.Fatalf("%s at %v: %d values, %d train, want %d days and %d", s.ID(), cad, len(got.Values), got.NTrain, TrainDays+TestDays, TrainDays)
			}
			if s.Kind == NoAnomaly {
				if got.Start != -1 || got.Label != [2]int{-1, -1} || !slices.Equal(got.Values, twin.Values) {
					t.Errorf("%s at %v: anomaly-free series has rows %d-%d, label %v, or differs from its twin", s.ID(), cad, got.Start, got.End, got.Label)
				}
				continue
			}
			if got.Start < got.NTrain || got.End < got.Start {
				t.Fatalf("%s at %v: anomaly rows %d-%d, want inside the test split from %d", s.ID(), cad, got.Start, got.End, got.NTrain)
			}
			wantEnd := min(got.End+int(Grace/cad), len(got.Values)-1)
			if got.Label != [2]int{got.Start, wantEnd} {
				t.Errorf("%s at %v: label %v, want [%d %d]", s.ID(), cad, got.Label, got.Start, wantEnd)
			}
			if !slices.Equal(got.Values[:got.Start], twin.Values[:got.Start]) {
				t.Errorf("%s at %v: differs from its twin before the anomaly", s.ID(), cad)
			}
			if !slices.Equal(got.Values[got.End+1:], twin.Values[got.End+1:]) {
				t.Errorf("%s at %v: differs from its twin after the anomaly", s.ID(), cad)
			}
			if slices.Equal(got.Values[got.Start:got.End+1], twin.Values[got.Start:got.End+1]) {
				t.Errorf("%s at %v: rows %d-%d equal the twin's: the label marks no anomaly", s.ID(), cad, got.Start, got.End)
			}
			if (s.Kind == Flatline || s.Kind == Dropout) && got.Values[got.Start] == twin.Values[got.Start] {
				t.Errorf("%s at %v: the held value equals the twin's at the first labelled row", s.ID(), cad)
			}
		}
	}
}

// TestKindsInject checks each anomaly type's effect on one series.
func TestKindsInject(t *testing.T) {
	gen := func(f Family, k Kind, sz Size) (Labelled, Labelled, params) {
		s := Spec{Family: f, Kind: k, Size: sz, Seed: 3}
		got, err := Generate(s, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return got, generate(s, time.Minute, false), draw(s)
	}
	got, twin, p := gen(WhiteGauss, LevelShift, Medium)
	for i := got.Start; i <= got.End; i++ {
		if d := (got.Values[i] - twin.Values[i]) / p.scale; math.Abs(d-p.dir*shiftSize[Medium]) > 1e-9 {
			t.Fatalf("shift row %d adds %v noise sds, want %v", i, d, p.dir*shiftSize[Medium])
		}
	}
	got, _, _ = gen(WhiteLaplace, Flatline, Easy)
	for i := got.Start; i <= got.End; i++ {
		if got.Values[i] != got.Values[got.Start-1] {
			t.Fatalf("stuck row %d = %v, want the last value %v", i, got.Values[i], got.Values[got.Start-1])
		}
	}
	if n := got.End - got.Start + 1; n != int(stuckFor[Easy]/time.Minute) {
		t.Errorf("easy stuck lasts %d rows, want %v at 1 min", n, stuckFor[Easy])
	}
	got, _, _ = gen(Daily, Dropout, Easy)
	lo := slices.Min(got.Values[got.Start-24*60 : got.Start])
	if got.Values[got.Start] >= lo {
		t.Errorf("easy dropout holds %v, want below the day's minimum %v", got.Values[got.Start], lo)
	}
	got, _, _ = gen(SquareWave, DutyCycle, Easy)
	if v := distinct(got.Values); v != 2 {
		t.Errorf("square wave with a duty change takes %d values, want 2", v)
	}
	got, _, _ = gen(Modes, NoAnomaly, Hard)
	if v := distinct(got.Values); v != modeCount {
		t.Errorf("mode channel takes %d values, want %d", v, modeCount)
	}
	got, _, _ = gen(Quantised, NoAnomaly, Hard)
	if v := distinct(got.Values); v > 20 || v < 5 {
		t.Errorf("quantised channel takes %d values, want a handful", v)
	}
	got, twin, p = gen(Orbit95m, Inversion, Easy)
	for i := got.Start; i <= got.End; i++ {
		mean := (got.Values[i] + twin.Values[i]) / 2
		if math.Abs(mean-(p.offset+p.scale*twin.noiseAt(i))) > 1e-9*(math.Abs(p.offset)+1) {
			t.Fatalf("inverted row %d: wave not mirrored about the noise", i)
		}
	}
}

// noiseAt recovers the noise of a sine-family twin at row i (its value less
// the wave), in family units.
func (l Labelled) noiseAt(i int) float64 {
	p := draw(l.Spec)
	cyc := float64(i)*l.Cadence.Seconds()/p.period + p.phase
	return (l.Values[i]-p.offset)/p.scale - p.amp*math.Sin(2*math.Pi*cyc)
}

func distinct(vs []float64) int {
	m := map[float64]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return len(m)
}
