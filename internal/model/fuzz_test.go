package model

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

// FuzzUpdate feeds arbitrary value sequences (NaN, ±Inf, extremes,
// subnormals) to one series, spaced by an arbitrary step. Every score must
// be in [0, 1], a NaN or infinite value must leave the state alone, and no
// input may leave a statistic non-finite: a poisoned state would silence
// the series for good.
func FuzzUpdate(f *testing.F) {
	f.Add(floatsBytes(8, 8.1, 7.9, 8, 12, 8), uint32(300))
	f.Add(floatsBytes(math.NaN(), math.Inf(1), math.Inf(-1), 0), uint32(1))
	f.Add(floatsBytes(1e308, -1e308, 1e308, -1e308, 1, 2, 3), uint32(60))
	f.Add(floatsBytes(1e50, -1e50, 1e40, 3e38, -3e38, 1), uint32(3600))
	f.Add(floatsBytes(math.MaxFloat64, -math.MaxFloat64, 5e-324, -5e-324, 0), uint32(0))
	f.Add(floatsBytes(), uint32(5))
	f.Fuzz(func(t *testing.T, raw []byte, stepSeconds uint32) {
		d, err := NewDetector(Config{WarmUp: 3})
		if err != nil {
			t.Fatal(err)
		}
		ts := int64(1_700_000_000e9)
		for i := 0; i+8 <= len(raw); i += 8 {
			v := math.Float64frombits(binary.LittleEndian.Uint64(raw[i:]))
			ts += int64(stepSeconds) * 1e9
			before := *d
			r := d.Update(ts, v)
			if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
				t.Fatalf("Update(%v) = %+v: score not in [0, 1]", v, r)
			}
			if (math.IsNaN(v) || math.IsInf(v, 0)) && (*d != before || r.Anomaly) {
				t.Fatalf("Update(%v) = %+v changed the state or flagged", v, r)
			}
			if bad := nonFinite(d); bad != "" {
				t.Fatalf("after Update(%v): %s is not finite", v, bad)
			}
		}
	})
}

// nonFinite names the first statistic of d that is NaN or infinite. The
// quantum starts at +Inf by design (no step seen yet) and is left out.
func nonFinite(d *Detector) string {
	if d.n == 0 {
		return ""
	}
	for name, v := range map[string]float64{"slow": d.slow, "dev": d.dev, "fast": d.fast, "smooth": d.smooth, "prev": d.prev, "lo": d.lo, "hi": d.hi, "cadence": d.clk.Cadence} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return name
		}
	}
	for i := range d.lk {
		if !d.lk[i].Finite() {
			return "likelihood of feature " + string(rune('0'+i))
		}
	}
	for h := range d.sea.mean {
		if m, v := float64(d.sea.mean[h]), float64(d.sea.dev[h]); math.IsNaN(m) || math.IsInf(m, 0) || math.IsNaN(v) || math.IsInf(v, 0) {
			return "season bin"
		}
	}
	// The issue 18 state must stay in the bounds the codec checks, so a
	// snapshot of any reachable state restores.
	if !d.pr.finite() || d.pr.err.check(d.n) != nil {
		return "predictor"
	}
	if err := d.checkNew(); err != nil {
		return err.Error()
	}
	return ""
}

// FuzzSnapshot feeds arbitrary (timestamp, value) pairs to one series, in
// any order and anywhere in int64 (astraguard-model scores any timestamps
// a client sends). Every state reached must encode and decode again: a
// state the decoder refuses would get the whole snapshot holding it set
// aside at the next start, every series' state lost with it.
func FuzzSnapshot(f *testing.F) {
	pairs := func(kv ...any) []byte {
		var b []byte
		for i := 0; i+1 < len(kv); i += 2 {
			b = binary.LittleEndian.AppendUint64(b, uint64(kv[i].(int64)))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(kv[i+1].(float64)))
		}
		return b
	}
	f.Add(pairs(int64(1_700_000_000e9), 8.0, int64(1_700_000_300e9), 8.1, int64(1_700_000_600e9), 7.9))
	f.Add(pairs(int64(-5e18), 1.0, int64(5e18), 2.0, int64(5e18+1e9), 3.0))
	f.Add(pairs(int64(math.MinInt64), 1.0, int64(math.MaxInt64), 2.0, int64(0), 3.0, int64(math.MaxInt64), 4.0))
	f.Add(pairs(int64(1e9), 1e30, int64(2e9), -1e30, int64(1e9), 5e-324, int64(3e9), 0.0))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d := mustDetector(t, Config{WarmUp: 3})
		for i := 0; i+16 <= len(raw); i += 16 {
			ts := int64(binary.LittleEndian.Uint64(raw[i:]))
			v := math.Float64frombits(binary.LittleEndian.Uint64(raw[i+8:]))
			d.Update(ts, v)
			b, err := d.AppendBinary(nil)
			if err != nil {
				t.Fatalf("after Update(%d, %v): AppendBinary: %v", ts, v, err)
			}
			r := mustDetector(t, Config{WarmUp: 3})
			if err := r.UnmarshalBinary(b); err != nil {
				t.Fatalf("after Update(%d, %v): the state does not restore: %v", ts, v, err)
			}
		}
	})
}
