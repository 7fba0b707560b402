package heuristic

import (
	"math"

	"github.com/astraguard/astraguard/internal/stats"
)

// The level score: a level change tested against a locally linear
// background, so a shift on a slowly varying signal (a daily wave at
// 1-5 minute cadence, which the slow mean cannot follow) is seen. It is
// the two-window test of a level against the linear extrapolation of the
// samples before it (Basseville and Nikiforov, "Detection of Abrupt
// Changes", 1993) with exponential windows.
//
// The background is Brown's linear exponential smoothing (double
// exponential smoothing; Brown, "Smoothing, Forecasting and Prediction of
// Discrete Time Series", 1963): lin1 is an EWMA of the values, lin2 an
// EWMA of lin1, and level 2*lin1-lin2 plus trend k*(lin1-lin2), with
// k = a/(1-a), forecasts the next value. Each value's one-step forecast
// error is
//
//   - cleaned before it updates the background (once the series has
//     learned): Huber's psi at levelClean scales, the scale following the
//     errors through Tukey's biweight rho, which widens it under a lasting
//     change and not for one outlier (the robust Holt-Winters smoothing of
//     Gelper, Fried and Croux, "Robust forecasting with exponential and
//     Holt-Winters smoothing", J. Forecasting 2010). An outlier or a burst
//     does not drag the background (and its trend) along; a lasting shift
//     widens the scale until the background catches up, where a fixed
//     scale makes it ring around the new level;
//   - tested in units of the series' mean absolute first difference
//     (st.step: a noise scale a slow wave does not inflate, 1.13 standard
//     deviations of Gaussian noise), clipped at levelTest (Huber's robust
//     test: one outlier cannot make a level change on its own) and
//     averaged with the fast mean's half-life: an EWMA control chart of
//     the forecast errors (Roberts 1959, on the residuals of a forecast as
//     Montgomery and Mastrangelo 1991 chart autocorrelated data),
//     calibrated against its own long-run mean and variance like the
//     other scores, which absorbs what the background's lag on a wave's
//     curvature leaves in the errors.
//
// The score is two-sided; its tail probability is doubled. The constants
// were chosen on nabeval -cadence, the generated corpus and the
// cross-validation together (docs/model-tuning.md, sixth pass).
const (
	levelHL    = 6.0 // half-life in samples of the background
	levelClean = 2.0 // Huber's psi for the background's input, in cleaning scales
	levelTest  = 3.0 // the clip of the tested error, in st.step units
)

// level updates st's background with v and returns the level score's
// calibrated z (its absolute value: a move either way). floor is the
// deviation floor of this sample.
func (h *Heuristic) level(st *State, v, floor float64) float64 {
	scale := max(st.step, floor)
	forecast := 2*st.lin1 - st.lin2 + h.kLevel*(st.lin1-st.lin2)
	var e float64
	if st.n > 2 { // a line and a noise scale need two samples
		e = (v - forecast) / scale
	}
	y := v
	if st.n > h.learn {
		// Gelper et al.'s cleaning: Huber's psi in units of a scale
		// that follows the errors through Tukey's bounded biweight rho,
		// so it widens under a lasting change (the background catches
		// up instead of ringing) but not for one outlier. It is kept
		// squared (no square root unless a value is cleaned) and starts
		// at the standard deviation the first differences imply (their
		// mean absolute value is 2/sqrt(pi) of it for Gaussian noise).
		if st.linVar == 0 {
			st.linVar = scale * scale * math.Pi / 4
		}
		vr := max(st.linVar, floor*floor)
		d := v - forecast
		x2 := d * d / vr
		if x2 > levelClean*levelClean {
			// Within ±maxMagnitude like every value, so the
			// background, a convex combination of them, stays there.
			y = max(-maxMagnitude, min(maxMagnitude, forecast+math.Copysign(levelClean*math.Sqrt(vr), d)))
		}
		st.linVar = min(vr*(1+h.aLevel*(biweight(x2)-1)), maxLinVar)
	}
	z := st.lkLevel.Update(max(-levelTest, min(levelTest, e)), minStd, h.aFast, h.aLong)
	st.lin1 += h.aLevel * (y - st.lin1)
	st.lin2 += h.aLevel * (st.lin1 - st.lin2)
	return math.Abs(z)
}

// biweight is Tukey's biweight rho of x, given x², with k = 2.52, scaled
// so its expectation under a standard normal is 1 (Gelper et al.'s
// choice): it saturates at 4.46 for |x| >= k.
func biweight(x2 float64) float64 {
	const k2, c = 2.52 * 2.52, 4.46
	if x2 >= k2 {
		return c
	}
	u := 1 - x2/k2
	return c * (1 - u*u*u)
}

// maxLinVar caps the cleaning variance at the square of the largest
// distance of two values Score accepts.
const maxLinVar = 4 * maxMagnitude * maxMagnitude

// aLevel and kLevel are the background's EWMA weight and trend factor.
var (
	aLevel = stats.Alpha(levelHL)
	kLevel = aLevel / (1 - aLevel)
)
