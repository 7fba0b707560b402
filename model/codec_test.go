package model

import (
	"errors"
	"math"
	"testing"
	"time"
)

// TestCodecRestoresScoresBitForBit cuts a series at several points,
// encodes the detector, decodes it into a fresh one and checks that the
// rest of the series scores exactly as it does without the cut.
func TestCodecRestoresScoresBitForBit(t *testing.T) {
	const total = 3000
	var n noise
	ts := make([]int64, total)
	vs := make([]float64, total)
	for i := range vs {
		ts[i] = int64(1_700_000_000e9) + int64(i)*300e9
		vs[i] = 10 + math.Sin(float64(i)/20) + 0.3*n.next()
		if i%700 == 650 {
			vs[i] += 8 // a few anomalies so suppression state is exercised
		}
		if i > 2500 && i < 2560 {
			vs[i] = 4 // a flatline for the stuck detector
		}
	}
	want := make([]Result, total)
	ref := mustDetector(t, Config{})
	for i := range vs {
		want[i] = ref.Update(ts[i], vs[i])
	}
	for _, cut := range []int{0, 1, 2, 299, 300, 651, 1500, 2530} {
		d := mustDetector(t, Config{})
		for i := range cut {
			d.Update(ts[i], vs[i])
		}
		b, err := d.AppendBinary(nil)
		if err != nil || len(b) != EncodedBytes {
			t.Fatalf("cut %d: AppendBinary = %d bytes, %v; want %d bytes", cut, len(b), err, EncodedBytes)
		}
		r := mustDetector(t, Config{})
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatalf("cut %d: UnmarshalBinary: %v", cut, err)
		}
		if again, _ := r.AppendBinary(nil); string(again) != string(b) {
			t.Fatalf("cut %d: restored state differs from the encoded one", cut)
		}
		for i := cut; i < total; i++ {
			got := r.Update(ts[i], vs[i])
			if math.Float64bits(got.Score) != math.Float64bits(want[i].Score) || got != want[i] {
				t.Fatalf("cut %d: sample %d: Update = %+v, want %+v", cut, i, got, want[i])
			}
		}
	}
}

func TestCodecRejectsBadInput(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 50 {
		d.Update(int64(i)*1e9, float64(i%7))
	}
	good, _ := d.AppendBinary(nil)
	nan := append([]byte(nil), good...)
	copy(nan[9:17], []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f}) // slow = NaN
	version := append([]byte(nil), good...)
	version[0] = codecVersion + 1
	tests := map[string][]byte{
		"empty": nil, "short": good[:len(good)-1], "long": append(append([]byte(nil), good...), 0),
		"nan slow": nan, "other version": version,
	}
	for name, b := range tests {
		r := mustDetector(t, Config{})
		before := *r
		if err := r.UnmarshalBinary(b); !errors.Is(err, ErrBadState) {
			t.Errorf("%s: UnmarshalBinary = %v, want ErrBadState", name, err)
		}
		if *r != before {
			t.Errorf("%s: a rejected input changed the detector", name)
		}
	}
}

func TestSignature(t *testing.T) {
	sig := func(c Config) string {
		s, err := c.Signature()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if sig(Config{}) != sig(Config{WarmUp: 300, SlowHalfLife: 84 * time.Hour}) {
		t.Error("Signature differs for Configs that resolve to the same parameters")
	}
	for _, c := range []Config{{WarmUp: 10}, {SlowHalfLife: 83 * time.Hour}, {Threshold: 0.5}, {Suppress: -1}, {Disable: FeatureStuck}} {
		if sig(c) == sig(Config{}) {
			t.Errorf("Signature(%+v) equals the default's", c)
		}
	}
	if _, err := (Config{WarmUp: -1}).Signature(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Signature of an invalid Config = %v, want ErrInvalidConfig", err)
	}
}

// FuzzUnmarshalBinary decodes arbitrary bytes: it must never panic, a
// rejected input must leave the detector alone, and an accepted one must
// re-encode to the same bytes and keep scoring within [0, 1].
func FuzzUnmarshalBinary(f *testing.F) {
	d, _ := NewDetector(Config{WarmUp: 3})
	seed, _ := d.AppendBinary(nil)
	f.Add(seed)
	for i := range 40 {
		d.Update(int64(i)*60e9, float64(i%5)+0.5*float64(i%3))
	}
	warm, _ := d.AppendBinary(nil)
	f.Add(warm)
	f.Add([]byte{codecVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _ := NewDetector(Config{WarmUp: 3})
		before := *r
		if err := r.UnmarshalBinary(b); err != nil {
			if *r != before {
				t.Fatal("a rejected input changed the detector")
			}
			return
		}
		again, _ := r.AppendBinary(nil)
		if string(again) != string(b) {
			t.Fatal("an accepted input does not re-encode to itself")
		}
		for i := range 20 {
			res := r.Update(int64(i)*60e9, float64(i))
			if math.IsNaN(res.Score) || res.Score < 0 || res.Score > 1 {
				t.Fatalf("after restore: Update = %+v: score not in [0, 1]", res)
			}
		}
	})
}

func BenchmarkCodec(b *testing.B) {
	d := mustDetector(b, Config{})
	for i := range 500 {
		d.Update(int64(i)*60e9, float64(i%13))
	}
	buf := make([]byte, 0, EncodedBytes)
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			buf, _ = d.AppendBinary(buf[:0])
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		r := mustDetector(b, Config{})
		for b.Loop() {
			if err := r.UnmarshalBinary(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.SetBytes(EncodedBytes)
}
