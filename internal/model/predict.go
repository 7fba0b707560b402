package model

import "math"

// lags is the order of the per-series autoregressive predictor: the last
// lags first differences predict the next one.
const lags = 3

const nw = lags // one weight per lag

// pTraceMax bounds the trace of the RLS inverse-correlation matrix. With
// exponential forgetting and an input that stops moving (a flat stretch),
// P grows by 1/lambda per sample without bound ("covariance windup"); past
// the bound P is not inflated any more, which keeps the predictor finite
// and ready to learn when the input moves again.
const pTraceMax = 1e4

// predictor is recursive least squares (RLS) with exponential forgetting
// on a short lag window (Haykin, Adaptive Filter Theory, ch. 10): an
// online per-series model of the series' own short-term behaviour. It
// learns in the series' own normalised units (value minus the slow mean,
// over the slow deviation), so the same settings fit every scale, and
// returns the one-step prediction error in those units. It models first
// differences (an ARIMA(lags,1,0) model): the lags of a smooth series
// sampled fast are nearly identical, which makes RLS on levels
// ill-conditioned (its weights diverged on a daily wave sampled every
// second), while its differences are close to white noise.
type predictor struct {
	w    [nw]float64
	p    [nw * nw]float64
	x    [lags]float64 // latest first differences, newest first
	last float64       // latest normalised value
	err  pruner        // the smoothed error and its judge
}

// reset starts the predictor afresh at value u: zero weights and
// P = 100*I.
func (r *predictor) reset(u float64) {
	*r = predictor{last: u}
	for i := range nw {
		r.p[i*nw+i] = 100
	}
}

// update predicts u's difference from the lag window, learns it with
// forgetting factor lambda and returns |u - prediction|.
func (r *predictor) update(u, lambda float64) float64 {
	x := r.x
	y := u - r.last
	var px [nw]float64
	pred, den := 0.0, lambda
	for i := range nw {
		pred += r.w[i] * x[i]
		s := 0.0
		for j := range nw {
			s += r.p[i*nw+j] * x[j]
		}
		px[i] = s
		den += x[i] * s
	}
	pred = max(min(pred, 2*uMax), -2*uMax)
	e := y - pred
	tr := 0.0
	inv := 1 / den
	for i := range nw {
		k := px[i] * inv
		r.w[i] += k * e
		for j := range nw {
			r.p[i*nw+j] -= k * px[j]
		}
		tr += r.p[i*nw+i]
	}
	// Rounding makes P drift from symmetric positive definite, after
	// which RLS diverges (Haykin ch. 13): keep it symmetric, and start P
	// afresh (keeping the weights) if a variance turns non-positive.
	il := 1.0
	if tr < pTraceMax {
		il = 1 / lambda
	}
	for i := range nw {
		for j := i; j < nw; j++ {
			v := 0.5 * (r.p[i*nw+j] + r.p[j*nw+i]) * il
			r.p[i*nw+j], r.p[j*nw+i] = v, v
		}
	}
	for i := range nw {
		if !(r.p[i*nw+i] > 0) {
			r.p = [nw * nw]float64{}
			for k := range nw {
				r.p[k*nw+k] = 100
			}
			break
		}
	}
	copy(r.x[1:], r.x[:lags-1])
	r.x[0] = y
	r.last = u
	if !r.finite() {
		r.reset(u)
		return 0
	}
	return math.Abs(e)
}

// finite reports whether every weight and P entry is finite.
func (r *predictor) finite() bool {
	for _, v := range r.w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	for _, v := range r.x {
		if !(math.Abs(v) <= 2*uMax) {
			return false
		}
	}
	if !(math.Abs(r.last) <= uMax) {
		return false
	}
	for _, v := range r.p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
