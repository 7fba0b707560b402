package model

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/stats"
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

// TestCodecRestoresAQuantisedSeries: a series the quantiser rule made
// continuous with fewer than maxStates values (a slow wave read in whole
// counts, 13 of them) leaves its unused state slots zero; its snapshot
// restores and scores as the original does. It used to be refused ("state
// 0 twice"), so every restart set such a series aside.
func TestCodecRestoresAQuantisedSeries(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 500 {
		d.Update(int64(i)*60e9, float64(i%13))
	}
	if d.sts.discrete() {
		t.Fatal("fixture: the series is still judged on its states")
	}
	b, _ := d.AppendBinary(nil)
	r := mustDetector(t, Config{})
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	for i := 500; i < 700; i++ {
		if got, want := r.Update(int64(i)*60e9, float64(i%13)), d.Update(int64(i)*60e9, float64(i%13)); got != want {
			t.Fatalf("sample %d: restored Update = %+v, want %+v", i, got, want)
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
		checkRefused(t, mustDetector(t, Config{}), b, name)
	}
}

// checkRefused checks that d refuses b with ErrBadState and is left as it
// was.
func checkRefused(t *testing.T, d *Detector, b []byte, what string) {
	t.Helper()
	before := *d
	if err := d.UnmarshalBinary(b); !errors.Is(err, ErrBadState) {
		t.Errorf("%s: UnmarshalBinary = %v, want ErrBadState", what, err)
	}
	if *d != before {
		t.Errorf("%s: a refused input changed the detector", what)
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
	if sig(Config{}) != sig(Config{WarmUp: 300, SlowHalfLife: 84 * time.Hour, ExcursionBand: 2}) {
		t.Error("Signature differs for Configs that resolve to the same parameters")
	}
	for _, c := range []Config{{WarmUp: 10}, {SlowHalfLife: 83 * time.Hour}, {Threshold: 0.5}, {Suppress: -1}, {Disable: FeatureStuck}, {RecordStep: 0.5}, {ExcursionBand: 3}, {ExcursionBand: -1}} {
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
// re-encode to the same bytes and then take a few hundred samples of every
// shape (flat, ramp, wave, steps, spikes, noise, NaN, extremes, stalled and
// jumping clocks) with every score in [0, 1], a finite band, finite
// statistics and no Reset: a state the decoder accepts must be one Update
// can live with.
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
	// A version byte and ASCII digits: every field a finite but arbitrary
	// value (a cadence of 1e-76 s, statistics far outside the range).
	// Before the decoder checked ranges, such a state scored NaN.
	digits := []byte{codecVersion}
	for len(digits) < EncodedBytes {
		digits = append(digits, '0'+byte(len(digits)%10))
	}
	f.Add(digits)
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
		for i, s := range shapes(r.clk.Last) {
			res := r.Update(s.t, s.v)
			if math.IsNaN(res.Score) || res.Score < 0 || res.Score > 1 || res.Reset ||
				!finite(res.Expected) || !finite(res.Lower) || !finite(res.Upper) {
				t.Fatalf("after restore: sample %d (%v): Update = %+v", i, s.v, res)
			}
			if bad := nonFinite(r); bad != "" {
				t.Fatalf("after restore: sample %d (%v): %s is not finite", i, s.v, bad)
			}
		}
	})
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

type sample struct {
	t int64
	v float64
}

// shapes is 400 samples after a restored watermark: a flat stretch, a
// ramp, a wave, steps, spikes, pseudo-random noise and hostile values, at
// a minute's cadence with a stalled and a jumping clock in between.
func shapes(last int64) []sample {
	out := make([]sample, 0, 400)
	t := max(last, 0)
	var n noise
	for i := range 400 {
		switch {
		case i == 150 || i == 151:
			// a stalled clock: same timestamp
		case i == 250:
			t += 86400e9 // a day's gap
		default:
			t += 60e9
		}
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
			v = n.next()
			if i%17 == 0 {
				v = 1e6
			}
		case 5:
			v = []float64{math.NaN(), math.Inf(1), 1e31, -1e31, 1e-300, -5e-324, 0}[i%7]
		case 6:
			v = 1e29 * n.next()
		default:
			v = 1e-9 * n.next()
		}
		out = append(out, sample{t, v})
	}
	return out
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

// TestCodecRefusesUnreachableState mutates one field of a warm state at a
// time into a finite value Update never produces; each must be refused.
func TestCodecRefusesUnreachableState(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 500 {
		d.Update(1_700_000_000e9+int64(i)*60e9, 10+math.Sin(float64(i)/9))
	}
	mutations := map[string]func(*Detector){
		"range inverted":       func(d *Detector) { d.lo, d.hi = d.hi, d.lo },
		"range beyond limit":   func(d *Detector) { d.hi = 1e31 },
		"slow outside range":   func(d *Detector) { d.slow = d.hi + 1 },
		"fast outside range":   func(d *Detector) { d.fast = d.lo - 1 },
		"smooth outside range": func(d *Detector) { d.smooth = 1e-76 },
		"prev outside range":   func(d *Detector) { d.prev = d.hi * 2 },
		"negative deviation":   func(d *Detector) { d.dev = -1e-9 },
		"deviation too wide":   func(d *Detector) { d.dev = 10 * (d.hi - d.lo) },
		"zero quantum":         func(d *Detector) { d.quantum = 0 },
		"quantum too wide":     func(d *Detector) { d.quantum = 10 * (d.hi - d.lo) },
		"subnormal cadence":    func(d *Detector) { d.clk.Cadence = 5e-324 },
		"tiny cadence":         func(d *Detector) { d.clk.Cadence = 1e-76 },
		"huge cadence":         func(d *Detector) { d.clk.Cadence = 1e300 },
		"likelihood count":     func(d *Detector) { d.lk[0].Update(1, 0.05, 0.1, 0.01); d.n = 1 },
		"season bin outside":   func(d *Detector) { d.sea.mean[3] = float32(d.hi + 100) },
		"season empty bin":     func(d *Detector) { d.sea.n[5], d.sea.mean[5] = 0, 1 },
		"season negative dev":  func(d *Detector) { d.sea.dev[7] = -1 },
		"season count":         func(d *Detector) { d.n = 30 },
		"stuck run":            func(d *Detector) { d.stk.Run = d.n + 1 },
		"stuck record":         func(d *Detector) { d.stk.Record = d.n + 1 },
		"new highs":            func(d *Detector) { d.highs = d.n + 1 },
		"new lows":             func(d *Detector) { d.lows = d.n + 1 },
		"no samples, values":   func(d *Detector) { *d = Detector{p: d.p, slow: 1} },
	}
	for name, mutate := range mutations {
		m := *d
		mutate(&m)
		b, _ := m.AppendBinary(nil)
		checkRefused(t, mustDetector(t, Config{}), b, name)
	}
}

// TestUpdateResetsAStateThatScoresOutOfRange is Update's second line: a
// state that slipped past the codec and yields a non-finite band is
// discarded, reported with Reset, and the series learns again.
func TestUpdateResetsAStateThatScoresOutOfRange(t *testing.T) {
	d := mustDetector(t, Config{WarmUp: 3})
	for i := range 50 {
		d.Update(int64(i)*60e9, float64(i%4))
	}
	d.dev = math.Inf(1) // the band would be infinite
	r := d.Update(50*60e9, 2)
	if !r.Reset || r.Score != 0 || r.Warm || r.Anomaly {
		t.Fatalf("Update on a poisoned state = %+v, want a Reset with no score", r)
	}
	if d.n != 0 || d.dev != 0 {
		t.Fatalf("after Reset the state was kept: n %d, dev %v", d.n, d.dev)
	}
	for i := 51; i < 60; i++ {
		if r := d.Update(int64(i)*60e9, float64(i%4)); r.Reset {
			t.Fatalf("sample %d after the reset: Reset again", i)
		}
	}
}

// TestCodecSetsAsideVersion3: a snapshot of the layout before issue 18
// (version 3, 691 bytes) is refused with ErrBadState and leaves the
// detector as it was, so the service sets it aside and relearns; the
// signature changed with the version, so it is not even offered.
func TestCodecSetsAsideVersion3(t *testing.T) {
	old := make([]byte, 691)
	old[0] = 3
	checkRefused(t, mustDetector(t, Config{}), old, "version 3")
	sig, _ := Config{}.Signature()
	if sig == "" || codecVersion == 3 {
		t.Errorf("codec version %d, signature %q: want a new version and a signature", codecVersion, sig)
	}
}

// TestCodecSetsAsideVersion4: a snapshot of the first issue-18 layout
// (version 4, without the shortest dwells) is refused, whatever its
// length, and leaves the detector as it was.
func TestCodecSetsAsideVersion4(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 400 {
		d.Update(int64(i)*60e9, float64(i%3))
	}
	cur, _ := d.AppendBinary(nil)
	for _, n := range []int{EncodedBytes - 4*maxStates, EncodedBytes} {
		old := append([]byte(nil), cur[:n]...)
		old[0] = 4
		checkRefused(t, d, old, fmt.Sprintf("version 4, %d bytes", n))
	}
}

// TestCodecSetsAsideVersion5: a snapshot of the layout before the records
// test and the quantiser rule (version 5, without the counts of new highs,
// new lows and neighbouring steps) is refused, whatever its length, and
// leaves the detector as it was.
func TestCodecSetsAsideVersion5(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 400 {
		d.Update(int64(i)*60e9, float64(i%3))
	}
	cur, _ := d.AppendBinary(nil)
	for _, n := range []int{EncodedBytes - 12, EncodedBytes} {
		old := append([]byte(nil), cur[:n]...)
		old[0] = 5
		checkRefused(t, d, old, fmt.Sprintf("version 5, %d bytes", n))
	}
}

// TestCodecSetsAsideVersion6: a snapshot of the layout before the
// heavy-tail clip of the fast mean (version 6, without the outlier rate)
// is refused, whatever its length, and leaves the detector as it was.
func TestCodecSetsAsideVersion6(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 400 {
		d.Update(int64(i)*60e9, float64(i%3))
	}
	cur, _ := d.AppendBinary(nil)
	for _, n := range []int{EncodedBytes - 4, EncodedBytes} {
		old := append([]byte(nil), cur[:n]...)
		old[0] = 6
		checkRefused(t, d, old, fmt.Sprintf("version 6, %d bytes", n))
	}
}

// TestCodecSetsAsideVersion7: a snapshot of the layout before the record
// levels carried along the local trend (version 7, without the line and
// the carried levels) is refused, whatever its length, and leaves the
// detector as it was.
func TestCodecSetsAsideVersion7(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 400 {
		d.Update(int64(i)*60e9, float64(i%3))
	}
	cur, _ := d.AppendBinary(nil)
	for _, n := range []int{EncodedBytes - 5*8 - 2*4, EncodedBytes} {
		old := append([]byte(nil), cur[:n]...)
		old[0] = 7
		checkRefused(t, d, old, fmt.Sprintf("version 7, %d bytes", n))
	}
}

// TestCodecSetsAsideVersion8: a snapshot of the layout before the
// excursion dwell rule (version 8, without the excursions) is refused,
// whatever its length, and leaves the detector as it was.
func TestCodecSetsAsideVersion8(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 400 {
		d.Update(int64(i)*60e9, float64(i%3))
	}
	cur, _ := d.AppendBinary(nil)
	for _, n := range []int{EncodedBytes - stats.ExcursionBytes, EncodedBytes} {
		old := append([]byte(nil), cur[:n]...)
		old[0] = 8
		checkRefused(t, d, old, fmt.Sprintf("version 8, %d bytes", n))
	}
}

// TestCodecRejectsForgedNewFields: every field versions 4 to 9 added is
// checked on restore (issue 23's rule): the hour, the predictor, the state
// table and its shortest dwells, the outlier rate, the local trend and the
// record levels carried along it, the excursions beyond the band.
func TestCodecRejectsForgedNewFields(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 400 {
		d.Update(int64(i)*60e9, float64(i%3)) // a three-state series
	}
	if !d.sts.discrete() || d.sts.k != 3 {
		t.Fatalf("fixture: %d states, want 3", d.sts.k)
	}
	forge := map[string]func(x *Detector){
		"hour 24":               func(x *Detector) { x.hour = 24 },
		"NaN weight":            func(x *Detector) { x.pr.w[0] = math.NaN() },
		"negative P":            func(x *Detector) { x.pr.p[0] = -1 },
		"lag beyond uMax":       func(x *Detector) { x.pr.x[0] = 3 * uMax },
		"too many states":       func(x *Detector) { x.sts.k = maxStates + 2 },
		"current unseen":        func(x *Detector) { x.sts.cur = 5 },
		"duplicate state":       func(x *Detector) { x.sts.val[1] = x.sts.val[0] },
		"value beyond k":        func(x *Detector) { x.sts.val[7] = 4 },
		"NaN state":             func(x *Detector) { x.sts.val[2] = math.NaN() },
		"empty dwell":           func(x *Detector) { x.sts.run = 0 },
		"period ring slot":      func(x *Detector) { x.per.pos = periodRing },
		"period too long":       func(x *Detector) { x.per.per = periodLags },
		"period block NaN":      func(x *Detector) { x.per.ring[0] = float32(math.NaN()) },
		"period block sum":      func(x *Detector) { x.per.sum = math.Inf(1) },
		"negative variance":     func(x *Detector) { x.per.acf[0] = -1 },
		"pruner max NaN":        func(x *Detector) { x.pr.err.max = math.NaN() },
		"pruner count":          func(x *Detector) { x.pr.err.n = x.n + 1 },
		"period pruner mean":    func(x *Detector) { x.per.err.mae = -1 },
		"unseen transition":     func(x *Detector) { x.sts.trans[9*maxStates+1] = 1 },
		"singletons miscount":   func(x *Detector) { x.sts.once++ },
		"steps beyond total":    func(x *Detector) { x.sts.steps = x.sts.total + 1 },
		"more transitions":      func(x *Detector) { x.sts.trans[1] = 60000 },
		"visits beyond k":       func(x *Detector) { x.sts.visits[9] = 1 },
		"shortest over longest": func(x *Detector) { x.sts.short[0] = x.sts.dwell[0] + 1 },
		"shortest beyond k":     func(x *Detector) { x.sts.short[9] = 1 },
		"shortest, no visit":    func(x *Detector) { x.sts.visits[0] = 0 },
		"visit, no shortest":    func(x *Detector) { x.sts.short[1] = 0 },
		"outlier rate above 1":  func(x *Detector) { x.tail = 1.5 },
		"negative outlier rate": func(x *Detector) { x.tail = -0.1 },
		"NaN outlier rate":      func(x *Detector) { x.tail = float32(math.NaN()) },
		"trend index mean 0":    func(x *Detector) { x.tMean = 0 },
		"trend index beyond n":  func(x *Detector) { x.tMean = float64(x.n) + 1 },
		"negative trend var":    func(x *Detector) { x.tVar = -1 },
		"NaN trend var":         func(x *Detector) { x.tVar = math.NaN() },
		"trend cov too large":   func(x *Detector) { x.tCov = 10 * math.Sqrt(x.tVar) * (x.hi - x.lo) },
		"NaN trend cov":         func(x *Detector) { x.tCov = math.NaN() },
		"carried high inside":   func(x *Detector) { x.dhi = x.hi - 0.5 },
		"carried low inside":    func(x *Detector) { x.dlo = x.lo + 0.5 },
		"carried high infinite": func(x *Detector) { x.dhi = math.Inf(1) },
		"carried low NaN":       func(x *Detector) { x.dlo = math.NaN() },
		"since high beyond n":   func(x *Detector) { x.sinceHi = x.n },
		"since low beyond n":    func(x *Detector) { x.sinceLo = x.n + 5 },
		"excursion side 2":      func(x *Detector) { x.exc.Side, x.exc.Run = 2, 1 },
		"excursion, no run":     func(x *Detector) { x.exc.Side, x.exc.Run = 1, 0 },
		"run, no excursion":     func(x *Detector) { x.exc.Side, x.exc.Run = 0, 3 },
		"excursion beyond n":    func(x *Detector) { x.exc.Side, x.exc.Run = -1, x.n+1 },
		"longest, no visit":     func(x *Detector) { x.exc.Record[1], x.exc.Visits[1] = 5, 0 },
		"visit, no longest":     func(x *Detector) { x.exc.Record[0], x.exc.Visits[0] = 0, 2 },
		"longest beyond n":      func(x *Detector) { x.exc.Record[0], x.exc.Visits[0] = x.n+1, 1 },
	}
	for name, f := range forge {
		x := *d
		f(&x)
		b, _ := x.AppendBinary(nil)
		checkRefused(t, mustDetector(t, Config{}), b, name)
	}
}
