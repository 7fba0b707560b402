package heuristic

import (
	"errors"
	"math"
	"testing"
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
	for name, b := range map[string][]byte{"empty": nil, "short": good[:5], "long": append(good[:len(good):len(good)], 1),
		"nan mean": nan, "version": version, "negative quiet": quiet} {
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
// keeps scoring in [0, 1].
func FuzzStateUnmarshal(f *testing.F) {
	h, _ := New(Config{Learning: 2})
	st := h.NewState("sat1/voltage")
	seed, _ := st.AppendBinary(nil)
	f.Add(seed)
	for i := range 30 {
		h.Score(&st, int64(i), float64(i%4))
	}
	warm, _ := st.AppendBinary(nil)
	f.Add(warm)
	f.Fuzz(func(t *testing.T, b []byte) {
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
		// A few hundred samples of every shape: flat, ramp, wave, steps,
		// spikes, hostile values, tiny and huge noise.
		for i := range 400 {
			var v float64
			switch k := i / 50; k {
			case 0:
				v = 5
			case 1:
				v = float64(i)
			case 2:
				v = math.Sin(float64(i) / 7)
			case 3:
				v = float64(i/10%3) * 4
			case 4:
				v = float64(i%13) - 6
				if i%17 == 0 {
					v = 1e6
				}
			case 5:
				v = []float64{math.NaN(), math.Inf(1), 1e101, -1e101, 1e-300, -5e-324, 0}[i%7]
			case 6:
				v = 1e99 * math.Sin(float64(i))
			default:
				v = 1e-9 * math.Cos(float64(i))
			}
			res := h.Score(&r, int64(i), v)
			if math.IsNaN(res.Score) || res.Score < 0 || res.Score > 1 || math.IsInf(res.Lower, 0) || math.IsInf(res.Upper, 0) || math.IsNaN(res.Expected) {
				t.Fatalf("after restore: sample %d (%v): Score = %+v", i, v, res)
			}
			if !r.lk.Finite() || math.IsNaN(r.mean) || math.IsInf(r.mean, 0) || math.IsNaN(r.dev) || math.IsInf(r.dev, 0) {
				t.Fatalf("after restore: sample %d (%v): statistics not finite: %+v", i, v, r)
			}
		}
	})
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
		"huge mean":          func(s *State) { s.mean = 1e200 },
		"huge fast":          func(s *State) { s.fast = -1e200 },
		"zero quantum":       func(s *State) { s.quantum = 0 },
		"negative quiet":     func(s *State) { s.quiet = -3 },
		"likelihood count":   func(s *State) { s.n = 3 },
		"no samples, values": func(s *State) { *s = State{limit: s.limit, mean: 1} },
		"first sample":       func(s *State) { *s = State{limit: s.limit, n: 1, mean: 1, fast: 2, prev: 1, quantum: math.Inf(1)} },
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
