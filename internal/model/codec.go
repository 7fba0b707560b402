package model

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"github.com/astraguard/astraguard/internal/stats"
)

// codecVersion is the first byte of every encoded Detector. Bump it when
// the layout below or the meaning of a field changes; Signature includes
// it, so a snapshot written by another layout is set aside, not misread.
const codecVersion = 9

// EncodedBytes is the length of one encoded Detector: a version byte and
// the fields in the order appendState writes them.
const EncodedBytes = 1 + 4 + 4 + 8*8 + 8 + 8 + numFeatures*stats.LikelihoodBytes + 24*4*2 + 24 + 8*(1+8+threeBits/64) + 2 + 4*2 +
	2 + prunerBytes + 8*(nw+nw*nw+lags+1) + maxStates*(8+4+4+2) + maxStates*maxStates*2 + 4 + 4 + 2 + 4 + periodBytes + 4 + 4 + 4 + 4 + 5*8 + 4 + 4 + stats.ExcursionBytes

// ErrBadState is returned by UnmarshalBinary for input that is not an
// encoded Detector of this version.
var ErrBadState = errors.New("invalid model state")

// AppendBinary appends d's learned state (not its configuration) to b in a
// fixed little-endian layout of EncodedBytes bytes, with no reflection and
// no allocation when b has room. Floats are stored as their IEEE bits, so a
// restored Detector scores bit for bit as the original would have.
func (d *Detector) AppendBinary(b []byte) ([]byte, error) {
	le := binary.LittleEndian
	b = append(b, codecVersion)
	b = le.AppendUint32(b, d.n)
	b = le.AppendUint32(b, uint32(d.quiet))
	for _, f := range [...]float64{d.slow, d.dev, d.fast, d.smooth, d.prev, d.quantum, d.lo, d.hi} {
		b = le.AppendUint64(b, math.Float64bits(f))
	}
	// The cached per-cadence weights (aDt...) are not encoded: a zero aDt
	// recomputes them on the next sample.
	b = le.AppendUint64(b, uint64(d.clk.Last))
	b = le.AppendUint64(b, math.Float64bits(d.clk.Cadence))
	for i := range d.lk {
		b = d.lk[i].AppendBinary(b)
	}
	for _, arr := range [...]*[24]float32{&d.sea.mean, &d.sea.dev} {
		for _, f := range arr {
			b = le.AppendUint32(b, math.Float32bits(f))
		}
	}
	b = append(b, d.sea.n[:]...)
	for _, arr := range [...][]uint64{d.nov.one[:1], d.nov.two[:], d.nov.three[:]} {
		for _, w := range arr {
			b = le.AppendUint64(b, w)
		}
	}
	b = le.AppendUint16(b, d.nov.hist)
	b = le.AppendUint32(b, d.stk.Run)
	b = le.AppendUint32(b, d.stk.Record)
	b = append(b, byte(d.hour), b2u8(d.daily))
	b = d.pr.err.appendBinary(b)
	for _, arr := range [...][]float64{d.pr.w[:], d.pr.p[:], d.pr.x[:], {d.pr.last}, d.sts.val[:]} {
		for _, f := range arr {
			b = le.AppendUint64(b, math.Float64bits(f))
		}
	}
	for _, arr := range [...][]uint32{d.sts.dwell[:], d.sts.short[:]} {
		for _, n := range arr {
			b = le.AppendUint32(b, n)
		}
	}
	for _, arr := range [...][]uint16{d.sts.trans[:], d.sts.visits[:]} {
		for _, w := range arr {
			b = le.AppendUint16(b, w)
		}
	}
	b = le.AppendUint32(b, d.sts.total)
	b = le.AppendUint32(b, d.sts.once)
	b = append(b, d.sts.k, d.sts.cur)
	b = le.AppendUint32(b, d.sts.run)
	b = d.per.appendBinary(b)
	b = le.AppendUint32(b, d.highs)
	b = le.AppendUint32(b, d.lows)
	b = le.AppendUint32(b, d.sts.steps)
	b = le.AppendUint32(b, math.Float32bits(d.tail))
	for _, f := range [...]float64{d.tMean, d.tVar, d.tCov, d.dlo, d.dhi} {
		b = le.AppendUint64(b, math.Float64bits(f))
	}
	b = le.AppendUint32(b, d.sinceHi)
	b = le.AppendUint32(b, d.sinceLo)
	return d.exc.AppendBinary(b), nil
}

// UnmarshalBinary replaces d's learned state with one encoded by
// AppendBinary, keeping d's configuration. Input of the wrong length or
// version, or holding values Update never produces (NaN or infinite
// statistics, a level history beyond 8 levels), returns an error wrapping
// ErrBadState and leaves d unchanged; it never panics.
func (d *Detector) UnmarshalBinary(b []byte) error {
	if len(b) != EncodedBytes {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadState, len(b), EncodedBytes)
	}
	if b[0] != codecVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, b[0], codecVersion)
	}
	r := reader{b: b[1:]}
	nd := Detector{p: d.p}
	nd.n = r.u32()
	nd.quiet = int32(r.u32())
	for _, f := range [...]*float64{&nd.slow, &nd.dev, &nd.fast, &nd.smooth, &nd.prev, &nd.quantum, &nd.lo, &nd.hi} {
		*f = r.f64()
	}
	nd.clk.Last = int64(r.u64())
	nd.clk.Cadence = r.f64()
	for i := range nd.lk {
		if !nd.lk[i].DecodeBinary(r.next(stats.LikelihoodBytes)) {
			return fmt.Errorf("%w: non-finite likelihood %d", ErrBadState, i)
		}
	}
	for _, arr := range [...]*[24]float32{&nd.sea.mean, &nd.sea.dev} {
		for i := range arr {
			arr[i] = r.f32()
		}
	}
	copy(nd.sea.n[:], r.next(24))
	for _, arr := range [...][]uint64{nd.nov.one[:1], nd.nov.two[:], nd.nov.three[:]} {
		for i := range arr {
			arr[i] = r.u64()
		}
	}
	nd.nov.hist = r.u16()
	nd.stk.Run, nd.stk.Record = r.u32(), r.u32()
	hd := r.next(2)
	nd.hour, nd.daily = int8(hd[0]), hd[1] == 1
	if hd[1] > 1 {
		return fmt.Errorf("%w: rhythm flag %d", ErrBadState, hd[1])
	}
	nd.pr.err.decode(&r)
	for _, arr := range [...][]float64{nd.pr.w[:], nd.pr.p[:], nd.pr.x[:]} {
		for i := range arr {
			arr[i] = r.f64()
		}
	}
	nd.pr.last = r.f64()
	for i := range nd.sts.val {
		nd.sts.val[i] = r.f64()
	}
	for _, arr := range [...][]uint32{nd.sts.dwell[:], nd.sts.short[:]} {
		for i := range arr {
			arr[i] = r.u32()
		}
	}
	for _, arr := range [...][]uint16{nd.sts.trans[:], nd.sts.visits[:]} {
		for i := range arr {
			arr[i] = r.u16()
		}
	}
	nd.sts.total, nd.sts.once = r.u32(), r.u32()
	ks := r.next(2)
	nd.sts.k, nd.sts.cur = ks[0], ks[1]
	nd.sts.run = r.u32()
	nd.per.decode(&r)
	nd.highs, nd.lows, nd.sts.steps = r.u32(), r.u32(), r.u32()
	nd.tail = r.f32()
	for _, f := range [...]*float64{&nd.tMean, &nd.tVar, &nd.tCov, &nd.dlo, &nd.dhi} {
		*f = r.f64()
	}
	nd.sinceHi, nd.sinceLo = r.u32(), r.u32()
	nd.exc.DecodeBinary(r.next(stats.ExcursionBytes))
	if err := nd.checkRestored(); err != nil {
		return err
	}
	if err := nd.checkNew(); err != nil {
		return err
	}
	*d = nd
	return nil
}

// checkRestored rejects decoded state Update could never have produced:
// such state can only come from a damaged or forged snapshot (a checksum
// proves the bytes were written, not that they were right), and it could
// make the series score NaN or never flag again. Every field is checked
// against what Update guarantees: finite where it must be, deviations
// non-negative and within the range seen, averages inside that range,
// counts no larger than the samples seen, a cadence an interval in
// nanoseconds can produce.
func (d *Detector) checkRestored() error {
	if d.quiet < 0 {
		return fmt.Errorf("%w: negative suppression %d", ErrBadState, d.quiet)
	}
	if d.nov.hist > 511 {
		return fmt.Errorf("%w: level history %#x", ErrBadState, d.nov.hist)
	}
	if d.n == 0 {
		// A series that saw only skipped samples has learned nothing.
		if *d != (Detector{p: d.p}) {
			return fmt.Errorf("%w: state without samples", ErrBadState)
		}
		return nil
	}
	for _, f := range [...]float64{d.slow, d.dev, d.fast, d.smooth, d.prev, d.lo, d.hi} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: non-finite statistic %v", ErrBadState, f)
		}
	}
	lo, hi := d.lo, d.hi
	if !(lo <= hi) || math.Abs(lo) > maxMagnitude || math.Abs(hi) > maxMagnitude {
		return fmt.Errorf("%w: range [%v, %v]", ErrBadState, lo, hi)
	}
	// EWMAs of values in [lo, hi] stay in it, up to rounding; float32
	// season bins round at about 6e-8 of their magnitude, and below
	// float32's normal range (values under about 1e-38, which Update
	// takes) by up to its smallest step: 1e-50 is stored as 0.
	width, mag := hi-lo, max(math.Abs(lo), math.Abs(hi))
	tol64, tol32 := 1e-9*width+1e-12*mag, 1e-6*(width+mag)+math.SmallestNonzeroFloat32
	in := func(v, tol float64) bool { return v >= lo-tol && v <= hi+tol }
	if d.prev < lo || d.prev > hi || !in(d.slow, tol64) || !in(d.fast, tol64) || !in(d.smooth, tol64) {
		return fmt.Errorf("%w: averages outside the range [%v, %v]", ErrBadState, lo, hi)
	}
	if d.dev < 0 || d.dev > width+tol64 {
		return fmt.Errorf("%w: deviation %v for a range of %v", ErrBadState, d.dev, width)
	}
	if !(d.quantum > 0) || d.quantum > width+tol64 && !math.IsInf(d.quantum, 1) {
		return fmt.Errorf("%w: quantum %v", ErrBadState, d.quantum)
	}
	// An interval is at least 1 ns and at most the span of int64 ns; the
	// first sample has none.
	if c := d.clk.Cadence; c != 0 && (d.n == 1 || !(c >= 1e-9 && c <= maxCadence)) {
		return fmt.Errorf("%w: cadence %v", ErrBadState, d.clk.Cadence)
	}
	for i := range d.lk {
		if d.lk[i].Count() > d.n {
			return fmt.Errorf("%w: likelihood %d has more updates than samples", ErrBadState, i)
		}
	}
	seen := 0
	for h := range 24 {
		m, dev := float64(d.sea.mean[h]), float64(d.sea.dev[h])
		seen += int(d.sea.n[h])
		switch {
		case d.sea.n[h] == 0 && (m != 0 || dev != 0):
			return fmt.Errorf("%w: season bin %d holds values but no samples", ErrBadState, h)
		case d.sea.n[h] > 0 && (!in(m, tol32) || !(dev >= 0) || math.IsInf(dev, 0)):
			return fmt.Errorf("%w: season bin %d mean %v, deviation %v", ErrBadState, h, m, dev)
		}
	}
	if uint64(seen) > uint64(d.n) {
		return fmt.Errorf("%w: season bins hold %d samples of %d", ErrBadState, seen, d.n)
	}
	if d.highs > d.n || d.lows > d.n {
		return fmt.Errorf("%w: %d new highs and %d new lows in %d samples", ErrBadState, d.highs, d.lows, d.n)
	}
	if d.stk.Run > d.n || d.stk.Record > d.n {
		return fmt.Errorf("%w: stuck runs %d and %d of %d samples", ErrBadState, d.stk.Run, d.stk.Record, d.n)
	}
	return nil
}

// maxCadence is the longest interval two int64 nanosecond timestamps can
// be apart, in seconds.
const maxCadence = math.MaxUint64 / 1e9

// checkNew validates the fields codec versions 4 to 9 added: the hour,
// the predictor and the state machine (version 5: each state's shortest
// dwell), the outlier rate (version 7), the local trend and the record
// levels carried along it (version 8), the excursions beyond the band
// (version 9).
func (d *Detector) checkNew() error {
	if !(d.tail >= 0 && d.tail <= 1) {
		return fmt.Errorf("%w: outlier rate %v", ErrBadState, d.tail)
	}
	if err := d.checkTrend(); err != nil {
		return err
	}
	if err := d.exc.Check(d.n); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if d.hour < 0 || d.hour > 23 {
		return fmt.Errorf("%w: hour %d", ErrBadState, d.hour)
	}
	if d.n > 0 && !d.pr.finite() {
		return fmt.Errorf("%w: predictor not finite or input beyond %v", ErrBadState, float64(uMax))
	}
	for i := range nw {
		if !(d.pr.p[i*nw+i] >= 0) {
			return fmt.Errorf("%w: predictor variance %v", ErrBadState, d.pr.p[i*nw+i])
		}
	}
	if err := d.per.check(d.n); err != nil {
		return err
	}
	if err := d.pr.err.check(d.n); err != nil {
		return err
	}
	s := &d.sts
	k := int(min(s.k, maxStates))
	switch {
	case s.k > maxStates+1:
		return fmt.Errorf("%w: %d states", ErrBadState, s.k)
	case (s.k == 0) != (d.n == 0):
		return fmt.Errorf("%w: %d states after %d samples", ErrBadState, s.k, d.n)
	case s.k > 0 && int(s.cur) >= k:
		return fmt.Errorf("%w: current state %d of %d", ErrBadState, s.cur, k)
	case s.k > 0 && s.run == 0:
		return fmt.Errorf("%w: empty dwell", ErrBadState)
	}
	for i, v := range s.val {
		if i >= k && (v != 0 || s.dwell[i] != 0) {
			return fmt.Errorf("%w: state %d beyond the %d seen", ErrBadState, i, k)
		}
		if i < k && (math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxMagnitude) {
			return fmt.Errorf("%w: state value %v", ErrBadState, v)
		}
		// A series the quantiser rule made continuous (k is
		// maxStates+1) may leave slots unfilled, at 0, and never reads
		// its table again: only a machine still in use must hold each
		// value once.
		for j := range i {
			if i < k && s.k <= maxStates && s.val[j] == v {
				return fmt.Errorf("%w: state %v twice", ErrBadState, v)
			}
		}
	}
	var sum uint64
	once := uint32(0)
	for t, c := range s.trans {
		if c != 0 && (t/maxStates >= k || t%maxStates >= k) {
			return fmt.Errorf("%w: transition between unseen states", ErrBadState)
		}
		sum += uint64(c)
		if c == 1 {
			once++
		}
	}
	if once != s.once || sum > uint64(s.total) || s.total > d.n || s.steps > s.total {
		return fmt.Errorf("%w: transition counts %d once, %d in all, %d total (%d steps) of %d samples", ErrBadState, s.once, sum, s.total, s.steps, d.n)
	}
	for i, v := range s.visits {
		if i >= k && v != 0 || uint32(v) > d.n {
			return fmt.Errorf("%w: %d dwells in state %d", ErrBadState, v, i)
		}
	}
	for i, v := range s.short {
		// A finished dwell is at least one sample long, and every
		// finished dwell counts as a visit.
		if v > s.dwell[i] || (v == 0) != (s.visits[i] == 0) {
			return fmt.Errorf("%w: shortest dwell %d in state %d (longest %d, %d visits)", ErrBadState, v, i, s.dwell[i], s.visits[i])
		}
	}
	return nil
}

func b2u8(b bool) byte {
	if b {
		return 1
	}
	return 0
}

type reader struct{ b []byte }

func (r *reader) next(n int) []byte {
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}
func (r *reader) u16() uint16  { return binary.LittleEndian.Uint16(r.next(2)) }
func (r *reader) u32() uint32  { return binary.LittleEndian.Uint32(r.next(4)) }
func (r *reader) u64() uint64  { return binary.LittleEndian.Uint64(r.next(8)) }
func (r *reader) f32() float32 { return math.Float32frombits(r.u32()) }
func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }

// Signature identifies the model's per-series state: the codec version and
// every resolved parameter Update reads. Two Configs with equal signatures
// (Config{} and Config{WarmUp: 300} among them) can share a snapshot; any
// other snapshot would score differently after a restore. It is a short
// hex string, stable across processes and releases.
func (c Config) Signature() (string, error) {
	p, err := c.params()
	if err != nil {
		return "", err
	}
	return p.signature(), nil
}

// Signature is Config.Signature of the Template's configuration.
func (t *Template) Signature() string { return t.p.signature() }

func (p *params) signature() string {
	h := sha256.New()
	fmt.Fprintf(h, "model codec %d; warmUp %d; disable %d; times and alphas", codecVersion, p.warmUp, p.disable)
	for _, f := range [...]float64{p.warmUpTime, p.slowHL, p.longHL, p.seasonHL, p.suppress, p.aFast, p.aShort, aSmooth, p.threshold, p.seasonGate, p.aCtx, p.lambda, p.prune, p.aMax, p.recordBand, p.periodPrune, p.recordTrend, p.recordStep, p.recordDrift, p.shiftClip, p.shiftTail, p.excursionBand} {
		fmt.Fprintf(h, " %x", math.Float64bits(f))
	}
	fmt.Fprintf(h, "; features %v %v %v %v %v %v %v", minStd, stats.MaxFeature, maxMagnitude, seasonMin, stats.FlatlineMin, refCadence, seasonHistory)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// checkTrend validates the local trend: the sample index's weighted mean
// lies in [1, n], its variance is non-negative and at most n², the
// covariance obeys Cauchy-Schwarz against the range's width, the carried
// record levels are finite and never inside the all-time range, and the
// samples since the last new high and low are fewer than those seen.
func (d *Detector) checkTrend() error {
	if d.n == 0 {
		return nil // checkRestored saw the whole state zero
	}
	n := float64(d.n)
	if !(d.tMean >= 1 && d.tMean <= n) || !(d.tVar >= 0 && d.tVar <= n*n) {
		return fmt.Errorf("%w: trend index mean %v, variance %v of %d samples", ErrBadState, d.tMean, d.tVar, d.n)
	}
	width := d.hi - d.lo
	if !(math.Abs(d.tCov) <= math.Sqrt(d.tVar)*width*(1+1e-9)+1e-300) {
		return fmt.Errorf("%w: trend covariance %v", ErrBadState, d.tCov)
	}
	if !(d.dlo <= d.lo) || !(d.dhi >= d.hi) || math.IsInf(d.dlo, 0) || math.IsInf(d.dhi, 0) {
		return fmt.Errorf("%w: record levels [%v, %v] for the range [%v, %v]", ErrBadState, d.dlo, d.dhi, d.lo, d.hi)
	}
	if d.sinceHi >= d.n || d.sinceLo >= d.n {
		return fmt.Errorf("%w: %d and %d samples since the last new high and low of %d", ErrBadState, d.sinceHi, d.sinceLo, d.n)
	}
	return nil
}
