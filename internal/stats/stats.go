package stats

import (
	"encoding/binary"
	"math"
)

// Alpha turns a half-life, in samples, into an EWMA weight: after halfLife
// updates an old value's weight has halved. halfLife may be fractional, as
// when a half-life in time is divided by the sampling interval.
func Alpha(halfLife float64) float64 { return -math.Expm1(-math.Ln2 / halfLife) }

// Floor is the smallest scale a deviation may take when it normalises a
// distance: half the data's quantum (the smallest non-zero step seen; +Inf
// before one is seen), so integer counts that sit still do not make a
// one-unit move look infinite, or else a relative epsilon of the level for
// truly flat series.
func Floor(level, quantum float64) float64 {
	f := 1e-6 * (math.Abs(level) + 1e-3)
	if q := quantum / 2; q > f && !math.IsInf(q, 1) {
		f = q
	}
	return f
}

// Quantum folds one step |v - prev| into the smallest non-zero step seen.
func Quantum(q, step float64) float64 {
	if step > 0 && step < q {
		return step
	}
	return q
}

// lnTail is ln(1e-10): LogTail scores 1 at that tail probability.
const lnTail = -23.025850929940457

// LogTail maps a z-score to Numenta's anomaly-likelihood log scale: 0 for
// z <= 0, 0.5 at a one-sided Gaussian tail probability of 1e-5 and 1 at
// 1e-10 or beyond. It is monotone in z, the rounding of Erfc and Log
// included (TestLogTailMonotone).
func LogTail(z float64) float64 { return LogTailRate(z, 1) }

// LogTailRate is LogTail for a tail probability multiplied by tests, the
// number of independent looks the probability stands for (a Bonferroni
// correction): a detector that samples 300 times as often as the one its
// threshold was set for must see a 300 times rarer value to be as
// surprised per unit of time. tests must be positive.
func LogTailRate(z, tests float64) float64 {
	if !(z > 0) || !(tests > 0) {
		return 0
	}
	// An infinite number of tests times a tail that underflowed to 0
	// would be NaN: cap the tests at the largest finite count.
	q := 0.5 * math.Erfc(z/math.Sqrt2) * min(tests, math.MaxFloat64)
	r := math.Log(min(q, 1)+1e-10) / lnTail
	return min(max(r, 0), 1)
}

// ScaleThreshold returns the score threshold whose false-alarm rate is k
// times threshold t's, on LogTailRate's scale, clamped into (0, 1]. A
// score s flags when s >= t; s >= t holds exactly when the corrected tail
// probability Q = min(q*tests, 1) satisfies ln(Q+1e-10)/ln(1e-10) >= t,
// that is Q <= 10^(-10t) - 1e-10 =: A(t), the tail that flags. Scaling
// the false-alarm rate by k allows k*A(t), so the new threshold is
// ln(k*A(t) + 1e-10)/ln(1e-10): about t - log10(k)/10 while A(t) is far
// above 1e-10. t = 1 (A = 0) and k = 1 are left as they are; a k*A(t) of
// 1 or more (every tail flags) gives the smallest positive threshold, so a
// score of 0 never flags. k must be positive.
func ScaleThreshold(t, k float64) float64 {
	if k == 1 || !(k > 0) || !(t > 0) || t >= 1 {
		return min(t, 1)
	}
	a := max(math.Exp(t*lnTail)-1e-10, 0)
	r := math.Log(min(k*a, 1)+1e-10) / lnTail
	return min(max(r, math.SmallestNonzeroFloat64), 1)
}

// MaxFeature caps a feature before it enters a Likelihood's float32
// statistics, whose variance squares it: far past any tail LogTail tells
// apart (z of 40 already scores 1), and far below float32's 3.4e38 when
// squared.
const MaxFeature = 1e9

// Likelihood is Numenta's anomaly-likelihood post-processor reduced to O(1)
// state: a short EWMA of a raw feature is compared with the long-run mean
// and variance of that same average. A feature that is always large (a
// noisy series) therefore stops looking anomalous, and only an unusual rise
// in the feature scores high. float32 keeps per-series state small; the
// arithmetic is float64.
type Likelihood struct {
	short    float32 // short EWMA of the raw feature
	mean     float32 // long EWMA of short
	variance float32 // long EWMA of (short-mean)^2
	n        uint32  // updates seen, saturating
}

// Update feeds one raw feature value x and returns the z-score of its short
// average against the long-run statistics seen before it. minSD floors the
// long-run spread so a perfectly quiet feature does not turn the first
// wiggle into an extreme tail; aShort and aLong are the EWMA weights. The
// long-run statistics are a plain running mean and variance until aLong
// weighs more than 1/n, so they are unbiased when scoring starts. The
// first update only learns (z = 0): there is no distribution to compare
// with yet.
func (l *Likelihood) Update(x, minSD, aShort, aLong float64) (z float64) {
	if !(x <= MaxFeature) {
		x = MaxFeature
	}
	x = max(x, -MaxFeature)
	if l.n < math.MaxUint32 {
		l.n++
	}
	if l.n == 1 {
		l.short, l.mean = float32(x), float32(x)
		return 0
	}
	rn := 1 / float64(l.n-1)
	s := float64(l.short) + aShort*(x-float64(l.short))
	l.short = float32(s)
	m, v := float64(l.mean), float64(l.variance)
	sd := max(math.Sqrt(v), minSD)
	z = (s - m) / sd
	a := max(aLong, rn)
	d := s - m
	m += a * d
	v += a * (d*(s-m) - v)
	l.mean, l.variance = float32(m), float32(v)
	return z
}

// Finite reports whether every statistic is finite: a guard for callers
// that check their state after hostile input.
func (l *Likelihood) Finite() bool {
	for _, v := range [...]float32{l.short, l.mean, l.variance} {
		if v != v || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// LikelihoodBytes is the length of an encoded Likelihood.
const LikelihoodBytes = 16

// AppendBinary appends l's state to b as LikelihoodBytes little-endian
// bytes (floats as IEEE bits, so a restored Likelihood continues bit for
// bit), for the detectors' snapshot codecs.
func (l *Likelihood) AppendBinary(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, math.Float32bits(l.short))
	b = le.AppendUint32(b, math.Float32bits(l.mean))
	b = le.AppendUint32(b, math.Float32bits(l.variance))
	return le.AppendUint32(b, l.n)
}

// Count is the number of updates l has seen (saturating), for callers that
// check a restored Likelihood against their own sample count.
func (l *Likelihood) Count() uint32 { return l.n }

// DecodeBinary reads what AppendBinary wrote from the first
// LikelihoodBytes of b (which must hold them). It reports false, leaving l
// unchanged, for statistics Update never produces: NaN or infinite values,
// averages beyond ±MaxFeature, a negative variance or one above the
// squared range of the input, state without updates that is not zero, and
// a first update with a spread.
func (l *Likelihood) DecodeBinary(b []byte) bool {
	le := binary.LittleEndian
	nl := Likelihood{
		short:    math.Float32frombits(le.Uint32(b)),
		mean:     math.Float32frombits(le.Uint32(b[4:])),
		variance: math.Float32frombits(le.Uint32(b[8:])),
		n:        le.Uint32(b[12:]),
	}
	if !nl.valid() {
		return false
	}
	*l = nl
	return true
}

// valid reports whether l is a state Update can produce (see DecodeBinary):
// Update clamps its input to ±MaxFeature, so the statistics are Within
// that range (which also refuses NaN and infinities).
func (l *Likelihood) valid() bool {
	switch {
	case !l.Within(-MaxFeature, MaxFeature):
		return false
	case l.n == 0:
		return *l == Likelihood{}
	case l.n == 1:
		return l.variance == 0 && l.short == l.mean
	}
	return true
}

// Within reports whether l's statistics are ones Update can produce from
// features in [lo, hi]: the averages within the range (with a relative
// slack of 1e-6 for rounding) and the variance at most (hi-lo)². Decoders
// of detectors whose features are bounded more tightly than ±MaxFeature
// use it to refuse a forged state DecodeBinary would accept.
//
// The variance may be a hair below 0: Update's EWMA of (short-mean)² can
// round to about -1e-16 of the squared averages when the spread collapses
// (a variance of -1.4e-17 beside averages of 0.2 was seen), and a snapshot
// of any state Update reaches must restore.
func (l *Likelihood) Within(lo, hi float64) bool {
	slack := 1e-6 * (hi - lo)
	in := func(x float32) bool { return float64(x) >= lo-slack && float64(x) <= hi+slack }
	s, m := float64(l.short), float64(l.mean)
	rounding := -1e-12 * max(s*s, m*m)
	return in(l.short) && in(l.mean) && float64(l.variance) >= rounding && float64(l.variance) <= (hi-lo)*(hi-lo)*(1+1e-6)
}
