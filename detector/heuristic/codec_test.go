package heuristic

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/astraguard/astraguard/internal/stats"
)

// TestCodecRestoresScoresBitForBit cuts a series at several points,
// round-trips the State and checks the rest scores exactly as without the
// cut, and that the restored State keeps the limit NewState resolved.
func TestCodecRestoresScoresBitForBit(t *testing.T) {
	h := mustNew(t, Config{Learning: 50, Quiet: 20})
	var n noise
	vs := make([]float64, 1500)
	for i := range vs {
		vs[i] = 20 + 2*n.next()
		if i%400 == 300 {
			vs[i] = 60
		}
		if i == 1000 {
			vs[i] = 1e200 // ignored by the statistics, flagged
		}
	}
	const id = "sat1/temperature"
	ref := h.NewState(id)
	want := make([]Result, len(vs))
	for i, v := range vs {
		want[i] = h.Score(&ref, int64(i), v)
	}
	for _, cut := range []int{0, 1, 2, 50, 51, 301, 1000, 1499} {
		st := h.NewState(id)
		for i := range cut {
			h.Score(&st, int64(i), vs[i])
		}
		b, err := st.AppendBinary(nil)
		if err != nil || len(b) != EncodedBytes {
			t.Fatalf("cut %d: AppendBinary = %d bytes, %v", cut, len(b), err)
		}
		r := h.NewState(id)
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatalf("cut %d: UnmarshalBinary: %v", cut, err)
		}
		if r != st {
			t.Fatalf("cut %d: restored %+v, want %+v", cut, r, st)
		}
		for i := cut; i < len(vs); i++ {
			got := h.Score(&r, int64(i), vs[i])
			if got != want[i] || math.Float64bits(got.Score) != math.Float64bits(want[i].Score) {
				t.Fatalf("cut %d: sample %d: Score = %+v, want %+v", cut, i, got, want[i])
			}
		}
	}
}

func TestCodecRejectsBadInput(t *testing.T) {
	h := mustNew(t, Config{})
	st := h.NewState("x")
	for i := range 10 {
		h.Score(&st, int64(i), float64(i))
	}
	good, _ := st.AppendBinary(nil)
	nan := append([]byte(nil), good...)
	copy(nan[9:17], []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	version := append([]byte(nil), good...)
	version[0]++
	quiet := append([]byte(nil), good...)
	quiet[8] = 0xff
	f64 := func(i int, v float64) []byte { // good with float statistic i set to v
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b[9+8*i:], math.Float64bits(v))
		return b
	}
	lvl := 9 + 6*8 + 2*stats.LikelihoodBytes // the level count; the levels follow
	withLevels := func(n uint8, vs ...float64) []byte {
		b := append([]byte(nil), good...)
		b[lvl] = n
		for i := range maxLevels {
			v := 0.0
			if i < len(vs) {
				v = vs[i]
			}
			binary.LittleEndian.PutUint64(b[lvl+1+8*i:], math.Float64bits(v))
		}
		return b
	}
	two := h.NewState("x") // two samples, then three levels claimed
	h.Score(&two, 0, 0)
	h.Score(&two, 1, 1)
	two.levels[2], two.nLevels = 2, 3
	moreLevels, _ := two.AppendBinary(nil)
	longQuiet := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(longQuiet[5:], 101) // the configured quiet period is 100
	lastOff := h.NewState("x")                        // a few-valued series whose last value is not a level
	for i := range 20 {
		h.Score(&lastOff, int64(i), float64(i%3))
	}
	lastOff.prev = 7
	notLevel, _ := lastOff.AppendBinary(nil)
	first := h.NewState("x") // one sample, then a fast mean that moved
	h.Score(&first, 0, 4)
	first.fast = 5
	firstOff, _ := first.AppendBinary(nil)
	firstCad := first // a cadence after one sample: no interval yet
	firstCad.fast, firstCad.clk.Cadence = 4, 60
	firstCadence, _ := firstCad.AppendBinary(nil)
	// Offsets from the end: the level score's background (version 6),
	// the flatline's runs (version 5), the cadence (version 4).
	const levelAt = EncodedBytes - 3*8 - stats.LikelihoodBytes
	const runsAt = levelAt - 8
	const cadenceAt = runsAt - 8
	cadence := func(c float64) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b[cadenceAt:], math.Float64bits(c))
		return b
	}
	v3 := append([]byte(nil), good[:cadenceAt-8]...) // the layout before the cadence
	v3[0] = 3
	v4 := append([]byte(nil), good[:runsAt]...) // the layout before the flatline
	v4[0] = 4
	v5 := append([]byte(nil), good[:levelAt]...) // the layout before the level score
	v5[0] = 5
	runs := func(run, record uint32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[runsAt:], run)
		binary.LittleEndian.PutUint32(b[runsAt+4:], record)
		return b
	}
	background := func(i int, v float64) []byte { // good with lin1 (0), lin2 (1) or linVar (2) set to v
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b[levelAt+8*i:], math.Float64bits(v))
		return b
	}
	levelFeature := append([]byte(nil), good...) // a level likelihood mean beyond the clipped feature
	binary.LittleEndian.PutUint32(levelFeature[levelAt+24+4:], math.Float32bits(2*levelTest))
	fresh, _ := (&State{}).AppendBinary(nil)
	freshSet := append([]byte(nil), fresh...)
	freshSet[9] = 1 // a mean before any sample
	for name, b := range map[string][]byte{"empty": nil, "short": good[:5], "long": append(good[:len(good):len(good)], 1),
		"nan mean": nan, "version": version, "negative quiet": quiet,
		"huge mean": f64(0, 1e101), "mean beyond the limit": f64(0, -1e31), "dev beyond the limit": f64(2, 3e30),
		"huge level beyond the limit": withLevels(2, 0, 1.1e30), "negative dev": f64(2, -1), "infinite prev": f64(3, math.Inf(-1)),
		"zero quantum": f64(4, 0), "negative quantum": f64(4, -2), "negative step": f64(5, -0.5), "nan step": f64(5, math.NaN()),
		"no levels": withLevels(0), "too many levels": withLevels(maxLevels + 2),
		"more levels than samples": moreLevels,
		"repeated level":           withLevels(3, 0, 1, 1), "unused slot set": withLevels(2, 0, 1, 5),
		"huge level": withLevels(2, 0, 1e200), "fresh with a statistic": freshSet,
		"quiet above the configured": longQuiet, "last value not a level": notLevel,
		"first sample": firstOff, "huge quantum": f64(4, 1e250),
		"cadence after one sample": firstCadence, "negative cadence": cadence(-60), "NaN cadence": cadence(math.NaN()),
		"subnanosecond cadence": cadence(1e-12), "version 3": v3, "version 4": v4, "version 5": v5,
		"background beyond the limit": background(0, 2e30), "NaN background": background(1, math.NaN()),
		"negative cleaning variance": background(2, -1), "huge cleaning variance": background(2, 1e300),
		"level feature beyond its clip": levelFeature,
		"run beyond the samples":        runs(1<<30, 0), "longest run beyond the samples": runs(0, 1<<30)} {
		r := h.NewState("sat1/voltage")
		before := r
		if err := r.UnmarshalBinary(b); !errors.Is(err, ErrBadState) {
			t.Errorf("%s: UnmarshalBinary = %v, want ErrBadState", name, err)
		}
		if r != before {
			t.Errorf("%s: a rejected input changed the state", name)
		}
	}
}

func TestSignature(t *testing.T) {
	base := mustNew(t, Config{}).Signature()
	if got := mustNew(t, Config{Learning: 150, Limits: map[string]Limit{"x": Above(1)}}).Signature(); got != base {
		t.Error("Signature changed with the limits or with a default spelled out")
	}
	for _, c := range []Config{{Learning: 10}, {HalfLife: 100}, {Flag: 0.6}, {Quiet: -1}} {
		if mustNew(t, c).Signature() == base {
			t.Errorf("Signature(%+v) equals the default's", c)
		}
	}
}

// FuzzStateUnmarshal decodes arbitrary bytes: never a panic, a rejected
// input leaves the state alone, an accepted one re-encodes to itself and
// keeps scoring in [0, 1] through a few hundred samples of varied shapes
// (flat, a few levels, a ramp, noise, spikes, huge values, a wave,
// hostile values, tiny values), with
// statistics that stay finite and a state the decoder still accepts.
func FuzzStateUnmarshal(f *testing.F) {
	h, _ := New(Config{Learning: 2})
	st := h.NewState("sat1/voltage")
	seed, _ := st.AppendBinary(nil)
	f.Add(seed, uint8(0))
	for i := range 30 {
		h.Score(&st, int64(i), float64(i%4))
	}
	warm, _ := st.AppendBinary(nil) // four levels
	f.Add(warm, uint8(1))
	for i := range 300 {
		h.Score(&st, int64(i), math.Sin(float64(i)/7)*float64(i))
	}
	many, _ := st.AppendBinary(nil) // past the levels
	f.Add(many, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, shape uint8) {
		r := h.NewState("sat1/voltage")
		before := r
		if err := r.UnmarshalBinary(b); err != nil {
			if r != before {
				t.Fatal("a rejected input changed the state")
			}
			return
		}
		if again, _ := r.AppendBinary(nil); string(again) != string(b) {
			t.Fatal("an accepted input does not re-encode to itself")
		}
		var n noise
		for i := range 300 {
			v := sample(shape, i, &n)
			res := h.Score(&r, int64(i), v)
			if math.IsNaN(res.Score) || res.Score < 0 || res.Score > 1 || math.IsInf(res.Lower, 0) || math.IsInf(res.Upper, 0) || math.IsNaN(res.Expected) {
				t.Fatalf("after restore, sample %d (%v): Score = %+v", i, v, res)
			}
			if err := r.validate(); err != nil || !r.lk.Finite() || !r.lkStep.Finite() || !r.lkLevel.Finite() {
				t.Fatalf("after restore, sample %d (%v): state %+v refused or not finite: %v", i, v, r, err)
			}
		}
	})
}

// sample is sample i of one of several series shapes.
func sample(shape uint8, i int, n *noise) float64 {
	switch shape % 9 {
	case 6:
		return math.Sin(float64(i) / 7)
	case 7:
		return []float64{math.NaN(), math.Inf(1), 1e101, -1e101, 1e-300, -5e-324, 0}[i%7]
	case 8:
		return 1e-9 * math.Cos(float64(i))
	case 0:
		return 3
	case 1:
		return float64(i / 40 % 3) // a few levels
	case 2:
		return 0.5 * float64(i)
	case 3:
		return n.next()
	case 4:
		if i%50 == 49 {
			return 1e6
		}
		return n.next()
	default:
		return 1e99 * n.next()
	}
}

// TestStateUnmarshalRefusesUnreachableState: finite statistics Score never
// produces are refused like a corrupt record.
func TestStateUnmarshalRefusesUnreachableState(t *testing.T) {
	h, _ := New(Config{Learning: 2})
	good := h.NewState("sat1/voltage")
	for i := range 300 {
		h.Score(&good, int64(i), 8+math.Sin(float64(i)/5))
	}
	mutations := map[string]func(*State){
		"negative deviation": func(s *State) { s.dev = -1 },
		"negative step":      func(s *State) { s.step = -1 },
		"huge mean":          func(s *State) { s.mean = 1e200 },
		"huge fast":          func(s *State) { s.fast = -1e200 },
		"huge background":    func(s *State) { s.lin2 = 1e31 },
		"first sample scale": func(s *State) {
			*s = State{limit: s.limit, maxQuiet: s.maxQuiet, n: 1, mean: 1, fast: 1, prev: 1, lin1: 1, lin2: 1, linVar: 1, quantum: math.Inf(1), levels: [maxLevels]float64{1}, nLevels: 1}
		},
		"zero quantum":       func(s *State) { s.quantum = 0 },
		"negative quiet":     func(s *State) { s.quiet = -3 },
		"likelihood count":   func(s *State) { s.n = 3 },
		"no samples, values": func(s *State) { *s = State{limit: s.limit, maxQuiet: s.maxQuiet, mean: 1} },
		"first sample": func(s *State) {
			*s = State{limit: s.limit, maxQuiet: s.maxQuiet, n: 1, mean: 1, fast: 2, prev: 1, quantum: math.Inf(1), levels: [maxLevels]float64{1}, nLevels: 1}
		},
	}
	for name, mutate := range mutations {
		m := good
		mutate(&m)
		b, _ := m.AppendBinary(nil)
		r := h.NewState("sat1/voltage")
		before := r
		if err := r.UnmarshalBinary(b); !errors.Is(err, ErrBadState) {
			t.Errorf("%s: UnmarshalBinary = %v, want ErrBadState", name, err)
		}
		if r != before {
			t.Errorf("%s: a refused state changed the target", name)
		}
	}
}
