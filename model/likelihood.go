package model

import "math"

// likelihood is Numenta's anomaly-likelihood post-processor reduced to
// O(1) state: the short moving average of a raw feature is compared with
// the long-run mean and variance of that same average. A feature that is
// always large (a noisy series) therefore stops looking anomalous, and only
// an unusual rise in the feature scores high.
type likelihood struct {
	short    float32 // short EWMA of the raw feature
	mean     float32 // long EWMA of short
	variance float32 // long EWMA of (short-mean)^2
}

// minStd floors the long-run spread of each feature so a perfectly quiet
// feature (a flat series) does not turn the first wiggle into a 1e-300 tail
// probability. Shift and season are in units of deviations, so 0.05 is
// small. Novelty is a share in [0, 1] that sits at 0 for days in a long,
// well-learned series; with a 0.05 floor one new transition was an
// 8-10 sigma event, a frequent saturated false positive on the Twitter
// files, while 0.1 still lets a burst of new transitions through (0.15
// and up lose real windows).
var minStd = [numFeatures]float64{0.05, 0.05, 0.1}

// maxFeature caps a raw feature before it enters the float32 statistics,
// whose variance squares it: far past any tail logTail tells apart (z of
// 40 already scores 1), and far below float32's 3.4e38 when squared.
// FuzzUpdate found a shift of 1e91 deviations (a jump after a run of
// 1e-77 values) overflowing the variance to +Inf.
const maxFeature = 1e9

// update feeds one raw feature value and returns its z-score against the
// long-run statistics seen before it; logTail turns a positive one into the
// likelihood score. rn is 1/n for the n-th update.
func (l *likelihood) update(x, minSD float64, p *params, rn float64) (z float64) {
	if !(x <= maxFeature) {
		x = maxFeature
	}
	s := float64(l.short) + p.aShort*(x-float64(l.short))
	l.short = float32(s)
	m, v := float64(l.mean), float64(l.variance)
	sd := math.Sqrt(v)
	if sd < minSD {
		sd = minSD
	}
	z = (s - m) / sd
	// A plain running mean and variance until the EWMA has enough samples,
	// so the statistics are unbiased when scoring starts.
	a := max(p.aLong, rn)
	d := s - m
	m += a * d
	v += a * (d*(s-m) - v)
	l.mean, l.variance = float32(m), float32(v)
	return z
}

// logTail maps a positive z-score to Numenta's log-likelihood scale: 0 for
// an ordinary value, 0.5 for a one-sided tail probability of 1e-5 and 1 at
// 1e-10 or beyond. It is monotone in z, the rounding of Erfc and Log
// included (TestLogTailMonotone), so Update calls it once per sample, on
// the largest z-score.
func logTail(z float64) float64 {
	q := 0.5 * math.Erfc(z/math.Sqrt2)
	r := math.Log(q+1e-10) / -23.025850929940457 // ln(1e-10)
	if r > 1 {
		r = 1
	}
	return r
}
