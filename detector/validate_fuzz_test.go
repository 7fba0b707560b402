package detector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
	"unicode/utf8"
)

// checkingModel answers every sample and fails the batch when the detector
// forwards anything invalid: the model must only ever see clean input.
type checkingModel struct{ bad error }

func (m *checkingModel) Predict(_ context.Context, in []Group, out []Prediction) error {
	n, err := BatchSize(in, out)
	if err != nil {
		m.bad = err
		return err
	}
	for _, g := range in {
		for _, v := range g.Values {
			if g.SeriesID == "" || math.IsNaN(v) || math.IsInf(v, 0) {
				m.bad = fmt.Errorf("model got series %q value %v", g.SeriesID, v)
				return m.bad
			}
		}
	}
	for i := range n {
		out[i] = Prediction{Score: 0.25, Warm: i%2 == 0}
	}
	return nil
}

func fuzzFloats(raw []byte) []float64 {
	var out []float64
	for i := 0; i+8 <= len(raw); i += 8 {
		out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
	}
	return out
}

func fuzzInts(raw []byte) []int64 {
	var out []int64
	for i := 0; i+8 <= len(raw); i += 8 {
		out = append(out, int64(binary.LittleEndian.Uint64(raw[i:])))
	}
	return out
}

// FuzzValidate scores two arbitrary groups (ids with odd unicode, invalid
// UTF-8 or nothing; timestamps absent, mismatched, negative, future or out
// of order; values NaN, ±Inf or extreme) and checks every verdict against
// the validation rules: exactly one verdict per sample, the right error
// code for each bad sample, a score in [0, 1] for each good one.
func FuzzValidate(f *testing.F) {
	le := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		return b
	}
	fb := func(vs ...float64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	base := uint64(t0.Add(-time.Hour).UnixNano())
	f.Add("sat1/voltage", "sat1/gyro", le(base, base+1, base+2, base+3), fb(8, 8.1, 0.01, 0.02), uint8(1))
	f.Add("", "\xff\xfe", le(base), fb(math.NaN(), math.Inf(1), math.Inf(-1), 1e308), uint8(1))
	f.Add("ünï/çødé\u200b", "🛰️/ß", le(base+5, base+1, 1<<63, base), fb(1, 2, 3, 4), uint8(1))
	f.Add("a", "a", le(base+9, base+1), fb(1, 2, 3, 4, 5, 6), uint8(5))
	f.Add("x", "y", le(), fb(), uint8(0))
	f.Add("big", "big", make([]byte, 8*4096), make([]byte, 8*4096), uint8(7)) // a huge batch, all at time 0
	f.Add("x", "y", le(uint64(t0.Add(time.Hour).UnixNano())), fb(math.Copysign(0, -1), 5e-324), uint8(3))
	f.Fuzz(func(t *testing.T, id1, id2 string, rawTS, rawV []byte, shape uint8) {
		m := &checkingModel{}
		d, err := New(m, &fakeGate{}, Config{MaxSeries: 8}, WithClock(&fakeClock{t0}))
		if err != nil {
			t.Fatal(err)
		}
		values, stamps := fuzzFloats(rawV), fuzzInts(rawTS)
		if shape&4 != 0 {
			id2 = id1 // one series twice in a batch
		}
		half := len(values) / 2
		groups := []Group{{SeriesID: id1, Values: values[:half]}, {SeriesID: id2, Values: values[half:]}}
		if shape&1 != 0 {
			groups[0].UnixNanos = stamps[:min(len(stamps), half+int(shape>>4&1))] // sometimes one too many
		}
		if shape&2 != 0 {
			groups[1].UnixNanos = stamps[min(len(stamps), half):]
		}
		got := d.Score(t.Context(), nil, groups)
		if m.bad != nil {
			t.Fatal(m.bad)
		}
		want := expectVerdicts(d.cfg, groups)
		if len(got) != len(want) {
			t.Fatalf("Score() = %d verdicts for %d samples", len(got), len(want))
		}
		for i, w := range want {
			if err := checkVerdict(got[i], w); err != nil {
				t.Fatalf("sample %d (%v): %v", i, w, err)
			}
		}
	})
}

// expected is what validation must decide for one sample.
type expected struct {
	code ErrorCode
	ts   int64
}

// expectVerdicts applies the rules independently of the detector's code:
// group-level checks first, then per sample finiteness, timestamp range
// and order within the series.
func expectVerdicts(cfg Config, groups []Group) []expected {
	now := t0.UnixNano()
	latest := t0.Add(cfg.MaxClockSkew).UnixNano()
	last := map[string]int64{}
	var out []expected
	for _, g := range groups {
		var gcode ErrorCode
		switch {
		case g.SeriesID == "":
			gcode = ErrMissingSeriesID
		case len(g.SeriesID) > cfg.MaxSeriesIDBytes || !utf8.ValidString(g.SeriesID):
			gcode = ErrInvalidSeriesID
		case len(g.UnixNanos) != 0 && len(g.UnixNanos) != len(g.Values):
			gcode = ErrLengthMismatch
		}
		for i, v := range g.Values {
			ts := now
			if i < len(g.UnixNanos) {
				ts = g.UnixNanos[i]
			}
			code := gcode
			if code == ErrNone {
				prev, seen := last[g.SeriesID]
				switch {
				case math.IsNaN(v) || math.IsInf(v, 0):
					code = ErrNotFinite
				case ts < 0 || ts > latest:
					code = ErrInvalidTimestamp
				case seen && ts < prev:
					code = ErrOutOfOrder
				default:
					last[g.SeriesID] = ts
				}
			}
			out = append(out, expected{code, ts})
		}
	}
	return out
}

func checkVerdict(v Verdict, w expected) error {
	if v.Err != w.code {
		return fmt.Errorf("Err = %v (%s), want %v (%s)", v.Err, v.Err.Message(), w.code, w.code.Message())
	}
	if v.UnixNanos != w.ts {
		return fmt.Errorf("UnixNanos = %d, want %d", v.UnixNanos, w.ts)
	}
	if v.Err != ErrNone {
		if v.Score != 0 || v.Anomaly || v.Source != SourceNone {
			return errors.New("an error verdict carries a score")
		}
		return nil
	}
	if math.IsNaN(v.Score) || v.Score < 0 || v.Score > 1 || v.Source == SourceNone {
		return fmt.Errorf("verdict %+v: score not in [0, 1] or no source", v)
	}
	return nil
}
