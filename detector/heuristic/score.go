package heuristic

import "math"

// Result is the heuristic's verdict on one sample.
type Result struct {
	// Score is in [0, 1]: 1 on a limit violation, otherwise the
	// statistical score (0.5 at Config.Flag deviations).
	Score float64
	// Anomaly is true on a limit violation, a statistical flag or a value
	// beyond ±1e100, which the statistics ignore.
	Anomaly bool
	// Learning is true while the statistical score is still learning; limit
	// violations are reported regardless.
	Learning bool
	// LimitViolation is true when the value broke the series' limit.
	LimitViolation bool
}

// State is one series' running statistics (96 bytes). The caller owns it;
// it is not safe for concurrent use.
type State struct {
	limit   Limit
	n       uint32
	quiet   int32
	mean    float64 // slow EWMA
	fast    float64 // fast EWMA
	dev     float64 // slow EWMA of |v - mean|
	prev    float64
	quantum float64 // smallest non-zero |v - prev| seen
	short   float64 // short EWMA of the shift z-score
	zMean   float64 // long-run mean of short
	zVar    float64 // long-run variance of short
}

// Score checks v against the series' limit and updates its statistics.
// A NaN or infinite value returns a zero Result and leaves st unchanged.
func (h *Heuristic) Score(st *State, unixNanos int64, v float64) Result {
	_ = unixNanos // reserved: the statistics are per sample, not per second
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Result{Learning: st.n < h.learn}
	}
	var res Result
	if st.limit.violated(v) {
		res = Result{Score: 1, Anomaly: true, LimitViolation: true}
	}
	if math.Abs(v) > maxMagnitude {
		// Implausible for any telemetry: flag it, but keep it out of the
		// statistics, where a difference of two such values overflows to
		// ±Inf and then NaN and would silence this series for good.
		return Result{Score: 1, Anomaly: true, LimitViolation: res.LimitViolation, Learning: st.n < h.learn}
	}
	if st.n < math.MaxUint32 {
		st.n++
	}
	if st.n == 1 {
		st.mean, st.fast, st.prev, st.quantum = v, v, v, math.Inf(1)
		res.Learning = h.learn > 0
		return res
	}
	step := math.Abs(v - st.prev)
	if step > 0 && step < st.quantum {
		st.quantum = step
	}
	floor := 1e-6 * (math.Abs(st.mean) + 1e-3)
	if q := st.quantum / 2; q > floor && !math.IsInf(q, 1) {
		floor = q
	}
	// Running means until the EWMAs have enough samples.
	a, af, al := h.alpha, h.aFast, h.aLong
	r := 1 / float64(st.n)
	a, af, al = max(a, r), max(af, r), max(al, r)
	st.fast += af * (v - st.fast)
	z := math.Abs(st.fast-st.mean) / math.Max(st.dev, floor)
	st.short += h.aShort * (z - st.short)
	s := h.tail(st.short, st.zMean, st.zVar)
	d := st.short - st.zMean
	st.zMean += al * d
	st.zVar += al * (d*(st.short-st.zMean) - st.zVar)
	st.mean += a * (v - st.mean)
	st.dev += a * (math.Abs(v-st.mean) - st.dev)
	st.prev = v

	if st.n <= h.learn {
		res.Learning = true
		return res
	}
	if st.quiet > 0 {
		st.quiet--
		return res
	}
	if s >= res.Score {
		res.Score = s
	}
	if s >= h.flag {
		res.Anomaly = true
		st.quiet = h.quiet
	}
	return res
}

// tail scores x against a Gaussian with the given long-run mean and
// variance, on Numenta's anomaly-likelihood log scale: 0 for ordinary
// values, 0.5 at a one-sided tail probability of 1e-5, 1 at 1e-10.
func (h *Heuristic) tail(x, mean, variance float64) float64 {
	sd := math.Max(math.Sqrt(variance), minStd)
	z := (x - mean) / sd
	if z <= 0 {
		return 0
	}
	q := 0.5 * math.Erfc(z/math.Sqrt2)
	return math.Min(1, math.Log(q+1e-10)/-23.025850929940457)
}

// maxMagnitude bounds the values the statistics accept: far beyond any
// telemetry, and small enough that every intermediate (a shift of 2e100
// over a deviation floored at 1e-9, squared in the long-run variance)
// stays finite.
const maxMagnitude = 1e100

// minStd floors the spread of the z-score so a perfectly quiet series does
// not turn its first wiggle into an extreme tail probability.
const minStd = 0.05
