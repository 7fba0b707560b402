package heuristic

import (
	"encoding/binary"
	"math"
	"testing"
)

func floatsBytes(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// FuzzHeuristic feeds arbitrary value sequences (NaN, ±Inf, extremes,
// subnormals) to one series. Every result must be in [0, 1], a NaN or
// infinite value must leave the state alone, the same input must give the
// same results, and no input may leave the statistics non-finite: a
// poisoned state would silence the statistical score of that series for
// good.
func FuzzHeuristic(f *testing.F) {
	f.Add(floatsBytes(8, 8.1, 7.9, 8, 12, 8), "sat1/voltage", uint8(2))
	f.Add(floatsBytes(math.NaN(), math.Inf(1), math.Inf(-1), 0), "gyro", uint8(1))
	f.Add(floatsBytes(1e308, -1e308, 1e308, -1e308, 1, 2, 3), "sat1/temperature", uint8(1))
	f.Add(floatsBytes(math.MaxFloat64, -math.MaxFloat64, 5e-324, -5e-324, 0), "x", uint8(0))
	f.Add(floatsBytes(), "", uint8(3))
	f.Add(floatsBytes(1, 1, 1, 1, 1, 1, 1, 1, 1, 1e300, 1), "ünï/çødé\u200b", uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, id string, learn uint8) {
		h, err := New(Config{Learning: int(learn%8) + 1, HalfLife: 5, Quiet: 2})
		if err != nil {
			t.Fatal(err)
		}
		vs := make([]float64, 0, len(raw)/8)
		for i := 0; i+8 <= len(raw); i += 8 {
			vs = append(vs, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
		}
		first := run(t, h, id, vs)
		again := run(t, h, id, vs)
		for i := range first {
			if first[i] != again[i] {
				t.Fatalf("sample %d (%v): Score = %+v, then %+v for the same input", i, vs[i], first[i], again[i])
			}
		}
	})
}

func run(t *testing.T, h *Heuristic, id string, vs []float64) []Result {
	st := h.NewState(id)
	out := make([]Result, len(vs))
	for i, v := range vs {
		before := st
		r := h.Score(&st, int64(i), v)
		if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
			t.Fatalf("Score(%v) = %+v: score not in [0, 1]", v, r)
		}
		if r.LimitViolation && (!r.Anomaly || r.Score != 1) {
			t.Fatalf("Score(%v) = %+v: a limit violation must be an anomaly scored 1", v, r)
		}
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			if st != before || r.Anomaly || r.Score != 0 {
				t.Fatalf("Score(%v) = %+v changed the state or flagged", v, r)
			}
		case math.Abs(v) > maxMagnitude:
			if st != before || !r.Anomaly || r.Score != 1 {
				t.Fatalf("Score(%v) = %+v: want flagged and the state unchanged", v, r)
			}
		}
		if !st.lk.Finite() {
			t.Fatalf("after %v (sample %d of %v): likelihood statistics not finite", v, i, vs[:i+1])
		}
		if !st.lkStep.Finite() || !st.lkLevel.Finite() {
			t.Fatalf("after %v (sample %d of %v): step or level likelihood statistics not finite", v, i, vs[:i+1])
		}
		for name, x := range map[string]float64{"mean": st.mean, "fast": st.fast, "dev": st.dev, "step": st.step, "lin1": st.lin1, "lin2": st.lin2} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("after %v (sample %d of %v): state %s = %v", v, i, vs[:i+1], name, x)
			}
		}
		// Whatever Score produces, a restore must accept: the decoder's
		// checks may refuse forgeries only.
		if err := st.validate(); err != nil {
			t.Fatalf("after %v (sample %d of %v): Score produced a state the decoder refuses: %v", v, i, vs[:i+1], err)
		}
		out[i] = r
	}
	return out
}

// TestExtremeValuesDoNotSilenceSeries is the regression FuzzHeuristic
// found: two opposite extreme values used to turn the statistics into NaN,
// after which the series never flagged again. Now they are flagged
// themselves and leave the statistics alone.
func TestExtremeValuesDoNotSilenceSeries(t *testing.T) {
	h := mustNew(t, Config{Learning: 10})
	st := h.NewState("sat1/pressure")
	var n noise
	i := int64(0)
	score := func(v float64) Result { i++; return h.Score(&st, i, v) }
	for _, v := range []float64{1e308, -1e308} {
		if r := score(v); !r.Anomaly || r.Score != 1 {
			t.Errorf("Score(%v) = %+v, want flagged with score 1", v, r)
		}
	}
	for range 2000 {
		score(8 + 0.1*n.next())
	}
	flagged := false
	for range 20 {
		flagged = flagged || score(20+0.1*n.next()).Anomaly
	}
	if !flagged {
		t.Error("a level shift of 100 deviations after two extreme values was not flagged")
	}
}

// FuzzSnapshot feeds arbitrary (timestamp, value) pairs to one series, in
// any order and anywhere in int64. Every state reached must encode and
// decode again: a state the decoder refuses would get the whole snapshot
// holding it set aside at the next start, every series' state lost.
func FuzzSnapshot(f *testing.F) {
	pair := func(ts int64, v float64) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(ts))
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	f.Add(append(pair(1_700_000_000e9, 8), pair(1_700_000_300e9, 8.1)...))
	f.Add(append(pair(-5e18, 1), pair(5e18, 2)...))
	f.Add(append(append(pair(math.MinInt64, 1), pair(math.MaxInt64, 2)...), pair(0, 3)...))
	f.Add(append(append(pair(1e9, 1e-50), pair(2e9, 1e30)...), pair(3e9, 5e-324)...))
	h, err := New(Config{Learning: 3, HalfLife: 5, Quiet: 2})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		st := h.NewState("sat1/voltage")
		for i := 0; i+16 <= len(raw); i += 16 {
			ts := int64(binary.LittleEndian.Uint64(raw[i:]))
			v := math.Float64frombits(binary.LittleEndian.Uint64(raw[i+8:]))
			h.Score(&st, ts, v)
			b, err := st.AppendBinary(nil)
			if err != nil {
				t.Fatalf("after Score(%d, %v): AppendBinary: %v", ts, v, err)
			}
			r := h.NewState("sat1/voltage")
			if err := r.UnmarshalBinary(b); err != nil {
				t.Fatalf("after Score(%d, %v): the state does not restore: %v", ts, v, err)
			}
		}
	})
}
