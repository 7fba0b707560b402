package model

import (
	"math"

	"github.com/astraguard/astraguard/internal/stats"
)

// Result is the model's verdict on one sample.
type Result struct {
	// Score is the anomaly score in [0, 1]; 0 while not Warm and during
	// the suppression that follows a flag, except for a value beyond
	// ±1e30 (MechanismLimit), which scores 1 in both.
	Score float64
	// Anomaly is the model's own decision: Score >= Config.Threshold, at
	// most once per Config.Suppress.
	Anomaly bool
	// Warm is false while the detector is still learning (see
	// Config.WarmUp).
	Warm bool
	// Mechanism is the detector that produced Score (MechanismNone when
	// Score is 0).
	Mechanism Mechanism
	// Expected is the value the model expected: the time-of-day profile
	// where it is trusted, else the slow mean. Lower and Upper bound the
	// ordinary range around it (bandWidth mean absolute deviations), for
	// drawing a band. All three are 0 while not Warm.
	Expected, Lower, Upper float64
	// Reset reports that the detector refused its own state: it produced
	// a score outside [0, 1] or a non-finite band, which only a damaged
	// state can (see Update). The state was discarded and the series
	// learns again from the next sample; this sample has no score. Callers
	// count it.
	Reset bool
}

// maxMagnitude bounds the values the model learns from (stats.MaxMagnitude,
// shared with the heuristic). FuzzUpdate found 1e50 turning a season bin
// into +Inf.
const maxMagnitude = stats.MaxMagnitude

// bandWidth is the half-width of Result's band in mean absolute
// deviations: about five standard deviations of Gaussian noise, so values
// outside it are rare enough to explain a flag.
const bandWidth = 4

// uMax clamps the predictor's normalised input: a value hundreds of
// deviations away already says all it can, and the clamp keeps the RLS
// statistics well scaled.
const uMax = 50

// minStd floors the long-run spread of each feature's likelihood so a
// perfectly quiet feature (a flat series) does not turn the first wiggle
// into a 1e-300 tail probability. Shift and season are in units of
// deviations, so 0.05 is small. Novelty is a share in [0, 1] that sits at
// 0 for days in a long, well-learned series; the higher floor keeps one
// new transition from reading as a many-sigma event while a burst of new
// transitions still scores.
var minStd = [numFeatures]float64{0.05, 0.05, 0.1}

// Detector is the model state for one series (see StateBytes). It is not
// safe for concurrent use: its owner (the service's per-series entry) serialises it.
type Detector struct {
	p *params

	n     uint32      // finite samples seen, saturating
	quiet int32       // samples left in the post-detection suppression
	highs uint32      // new highs set so far, for the records test (see trending)
	lows  uint32      // new lows set so far
	clk   stats.Clock // latest sample time and the sampling interval's EWMA
	// The time memories' per-sample EWMA weights at the cadence aDt, kept
	// so they are recomputed only when the cadence moves (see weights).
	aDt, aSlow, aLong, aSeason, aMax, aSmooth float32
	tail                                      float32 // long-run rate of outliers beyond ShiftClip deviations (see Config.ShiftTail)
	slow                                      float64 // slow EWMA mean
	dev                                       float64 // slow EWMA absolute deviation from slow
	fast                                      float64 // fast EWMA mean
	smooth                                    float64 // EWMA mean the time-of-day profile sees (see seasonSmoothHalfLife)
	prev                                      float64
	quantum                                   float64 // smallest non-zero |first difference| seen
	lo, hi                                    float64 // range seen so far (all time: see record)
	// The local trend (see Config.RecordDrift): an exponentially weighted
	// least-squares line of the values on the sample index, with the slow
	// mean's weights (tMean the index's mean, tVar its variance, tCov the
	// covariance with the values), and the record levels carried along it.
	tMean, tVar, tCov float64
	dlo, dhi          float64
	sinceHi, sinceLo  uint32

	lk  [numFeatures]stats.Likelihood
	sea season
	nov novelty
	stk stats.Flatline

	hour  int8 // UTC hour of the latest sample, to re-check the rhythm hourly
	daily bool // the profile holds a daily rhythm (season.rhythmic)
	pr    predictor
	exc   stats.Excursion
	sts   states
	per   period
	pk    uint32 // samples per period block at the current cadence
}

// NewDetector returns a detector for one series.
func NewDetector(cfg Config) (*Detector, error) {
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	return &Detector{p: p}, nil
}

// Update feeds one sample (unix nanoseconds, value) and returns its score.
// Samples must come in time order. A NaN or infinite value is ignored: it
// returns a zero score and leaves the state untouched. A value beyond
// ±1e30 is flagged (score 1, MechanismLimit), warm or not, and also
// leaves the state untouched: it does not count toward warm-up, so a
// series made only of such values stays cold (Warm false, no band) with
// every sample flagged.
//
// Whatever state it holds, Update never returns a Score outside [0, 1] or
// a non-finite band: a result that would is a state no sequence of samples
// produces (the codec refuses the ones it can recognise), so the state is
// discarded and the zero Result is returned with Reset set.
func (d *Detector) Update(unixNanos int64, v float64) Result {
	return d.UpdateJudged(unixNanos, v, Judge{})
}

// UpdateJudged is Update under the judgement j (the zero Judge is
// Update's): the mechanisms j turns off take no part in the score, the
// flag or the suppression, and the flag is decided at j's threshold. The
// statistics of every mechanism learn from the sample whatever j says,
// so a later call that turns a mechanism back on needs no relearning. j
// is not part of the state (the codec does not see it).
func (d *Detector) UpdateJudged(unixNanos int64, v float64, j Judge) (r Result) {
	r = d.update(unixNanos, v, j)
	// x-x is 0 for every finite x, NaN for ±Inf and NaN.
	if r.Score >= 0 && r.Score <= 1 && (r.Expected-r.Expected)+(r.Lower-r.Lower)+(r.Upper-r.Upper) == 0 {
		return r
	}
	*d = Detector{p: d.p}
	return Result{Reset: true}
}

func (d *Detector) update(unixNanos int64, v float64, j Judge) Result {
	p := d.p
	// off silences what the config or the judge turns off; only the
	// config's bits also stop a mechanism from learning.
	off := p.disable | j.Off
	warm := d.warm()
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Result{Warm: warm}
	}
	if math.Abs(v) > maxMagnitude {
		// Implausible for any telemetry, and unsafe to learn from: the
		// difference of two such values overflows to ±Inf, then NaN, and
		// would silence the series for good. So it is flagged whether or
		// not the series is warm, counts toward nothing and arms no
		// suppression: a series made only of such values stays cold and
		// has every sample flagged. The band is the learned one, so only
		// a warm series has it.
		r := Result{Score: 1, Anomaly: true, Warm: warm, Mechanism: MechanismLimit}
		if warm {
			r = d.explain(r, hourOf(unixNanos))
		}
		return r
	}
	if d.n < math.MaxUint32 {
		d.n++
	}
	hour := hourOf(unixNanos)
	if d.n == 1 {
		d.clk.Start(unixNanos)
		d.prev, d.slow, d.fast, d.smooth, d.lo, d.hi = v, v, v, v, v, v
		d.dlo, d.dhi, d.tMean = v, v, 1
		d.highs, d.lows = 1, 1 // the first sample is both
		d.quantum = math.Inf(1)
		d.sea.update(hour, v, 0, 1, false)
		d.hour = int8(hour)
		d.pr.reset(0)
		d.sts.update(v)
		return Result{}
	}
	d.clk.Observe(unixNanos)
	dt := d.step()
	d.weights(dt)
	// Early on the EWMAs are plain running means so they settle quickly.
	r := 1 / float64(d.n)
	aSlow, aFast := max(float64(d.aSlow), r), max(p.aFast, r)
	stuck := 0.0
	if d.stk.Update(v == d.prev) {
		stuck = 1
	}
	d.quantum = stats.Quantum(d.quantum, math.Abs(v-d.prev))
	floor := stats.Floor(d.slow, d.quantum)
	// Huber's psi on the fast mean's update (Gelper, Fried and Croux's
	// robust exponential smoothing), only on a series whose outliers are
	// routine: there one outlier is noise, not a level shift, while on a
	// light-tailed series a spike is news and moves the fast mean whole.
	sc := p.shiftClip * max(d.dev, floor)
	e := v - d.fast
	if float64(d.tail) > p.shiftTail {
		if q := d.prev - d.slow; q*(v-d.slow) > 0 && math.Abs(q) > sc && math.Abs(v-d.slow) > sc {
			// A second outlier on the same side confirms the first:
			// give back what its clip held back.
			e += (1 - aFast) * math.Copysign(min(math.Abs(q), math.Abs(v-d.slow))-sc, q)
		} else {
			e = max(min(e, sc), -sc)
		}
	}
	d.fast += aFast * e
	out := 0.0
	if math.Abs(v-d.slow) > sc {
		out = 1
	}
	d.tail += float32(max(float64(d.aLong), r) * (out - float64(d.tail)))
	d.smooth += max(float64(d.aSmooth), r) * (v - d.smooth)
	// The record levels follow the local trend, never inside the
	// all-time range.
	if d.tVar > 0 {
		b := p.recordDrift * d.tCov / d.tVar
		d.dhi, d.dlo = max(d.dhi+b, d.hi), min(d.dlo+b, d.lo)
	}
	rec := record(v, min(d.lo, d.dlo), max(d.hi, d.dhi), p.recordStep*max(d.dev, floor))
	if v > d.hi {
		d.highs = min(d.highs+1, d.n)
		if trending(d.highs, d.n, p.recordTrend) {
			rec = 0
		}
	}
	if v < d.lo {
		d.lows = min(d.lows+1, d.n)
		if trending(d.lows, d.n, p.recordTrend) {
			rec = 0
		}
	}
	// A new extreme carries the larger of itself and the carried level
	// on, unless the last one is older than the slow half-life: the
	// slope (fitted over about that span) is stale by then, and the new
	// extreme starts the carried level afresh.
	d.dhi, d.sinceHi = anchor(v > d.hi, v, d.dhi, d.sinceHi, float64(d.aSlow), 1)
	d.dlo, d.sinceLo = anchor(v < d.lo, v, d.dlo, d.sinceLo, float64(d.aSlow), -1)
	d.lo, d.hi = min(d.lo, v), max(d.hi, v)
	if int8(hour) != d.hour {
		d.hour = int8(hour)
		d.daily = d.sea.rhythmic(p.seasonGate)
	}
	u := (v - d.slow) / max(d.dev, floor)
	u = max(min(u, uMax), -uMax)
	if math.Abs(u) < p.recordBand {
		rec = 0
	}
	ctx := 0.0
	if p.disable&FeatureContext == 0 {
		ctx = d.pr.err.judge(d.pr.update(u, p.lambda), p.aCtx, float64(d.aMax), p.prune, warm)
		// A stay beyond the band longer than any before on its side
		// is the series leaving its short-term behaviour too.
		if d.exc.Update(stats.ExcursionSide(u, p.excursionBand)) && warm {
			ctx = 1
		}
	}
	rhythm := 0.0
	if p.disable&FeatureSeason == 0 {
		rhythm = d.per.update(u, max(d.pk, 1), p.aCtx, float64(d.aMax), p.periodPrune, warm)
	}
	ev := d.sts.update(v)

	var raw [numFeatures]float64
	// Extreme values can overflow dev or floor. A NaN or infinite floor
	// means slow is NaN or infinite, so the numerator is NaN or +Inf and
	// raw[0] NaN whichever max picks.
	raw[0] = math.Abs(d.fast-d.slow) / max(d.dev, floor)
	seasonal := d.seasonal(dt)
	raw[1] = d.sea.update(hour, d.smooth, floor, float64(d.aSeason), seasonal)
	raw[2] = d.nov.update(levelOf(v, d.lo, d.hi))

	// The features are complementary detectors, so the strongest evidence
	// wins; each is already calibrated by its own likelihood. LogTailRate
	// is monotone, so it runs once, on the largest z-score.
	// The season's likelihood learns only once the profile reports, so
	// its long-run statistics never include the zeros of the first days.
	zMax, which := 0.0, MechanismNone
	aLong := float64(d.aLong)
	for i := range raw {
		if i == 1 && !seasonal {
			continue
		}
		if z := d.lk[i].Update(raw[i], minStd[i], p.aShort, aLong); off&(1<<i) == 0 && z > zMax {
			zMax, which = z, Mechanism(i+1)
		}
	}

	res := Result{Warm: warm}
	if warm {
		// Explain against the statistics the sample was judged by,
		// before it updates them.
		res = d.explain(res, hour)
	}
	if d.n < math.MaxUint32 { // a saturated index keeps the last line
		dtv, dv := float64(d.n)-d.tMean, v-d.slow
		d.tMean += aSlow * dtv
		d.tVar = (1 - aSlow) * (d.tVar + aSlow*dtv*dtv)
		d.tCov = (1 - aSlow) * (d.tCov + aSlow*dtv*dv)
	}
	d.slow += aSlow * (v - d.slow)
	d.dev += aSlow * (math.Abs(v-d.slow) - d.dev)
	d.prev = v
	if !warm {
		return Result{}
	}
	if zMax > 0 && d.quiet == 0 {
		res.Score, res.Mechanism = stats.LogTailRate(zMax, refCadence/dt), which
	}
	// Stuck and record are rare yes/no events with no distribution to
	// calibrate, so they join the max directly.
	if off&FeatureStuck == 0 && stuck > res.Score {
		res.Score, res.Mechanism = stuck, MechanismStuck
	}
	if off&FeatureRecord == 0 && rec > res.Score {
		res.Score, res.Mechanism = rec, MechanismRecord
	}
	if off&FeatureContext == 0 && ctx > res.Score {
		res.Score, res.Mechanism = ctx, MechanismContext
	}
	if off&FeatureSeason == 0 && rhythm > res.Score {
		res.Score, res.Mechanism = rhythm, MechanismSeason
	}
	if p.disable&FeatureState == 0 && d.sts.discrete() {
		// A few-valued series is judged on its states alone: a mean's
		// distance from a level, its range and its runs are what a
		// mode-switching channel routinely does. A judge that turns
		// state off silences such a series; the config's Disable
		// removes the state machine, and with it this rule.
		res.Score, res.Mechanism = 0, MechanismNone
		if ev != stateNone && j.Off&FeatureState == 0 {
			res.Score, res.Mechanism = 1, MechanismState
		}
	}
	switch {
	case d.quiet > 0:
		d.quiet--
		res.Score, res.Mechanism = 0, MechanismNone
	case res.Score >= j.threshold(p.threshold):
		res.Anomaly = true
		d.quiet = int32(min(math.Ceil(p.suppress/dt), math.MaxInt32))
	case res.Score == 0:
		res.Mechanism = MechanismNone
	}
	return res
}

// warm reports whether the series has learned enough to report: WarmUp
// samples, or WarmUpTime of data and at least warmUpMin samples.
func (d *Detector) warm() bool {
	n := int(d.n)
	return n >= d.p.warmUp || (n >= warmUpMin && float64(n)*d.step() >= d.p.warmUpTime)
}

// weights converts the time memories into per-sample EWMA weights at
// cadence dt, unless the cached ones were computed within 1% of it: three
// exponentials per sample would cost more than the rest of Update.
func (d *Detector) weights(dt float64) {
	if a := float64(d.aDt); a > 0 && math.Abs(dt-a) <= 0.01*a {
		return
	}
	p := d.p
	d.aDt = float32(dt)
	d.aSlow = float32(stats.Alpha(p.slowHL / dt))
	d.aLong = float32(stats.Alpha(p.longHL / dt))
	// An hourly bin learns only during its hour, a 24th of the time, so
	// its half-life in samples is a 24th of SeasonHalfLife's.
	d.aSeason = float32(stats.Alpha(p.seasonHL / 24 / dt))
	// The predictor's largest error forgets over the longer of
	// ContextMaxHalfLife samples and LongHalfLife.
	d.aMax = float32(min(p.aMax, float64(d.aLong)))
	// The profile's short average lags at most one hourly bin: an EWMA
	// of weight a lags (1-a)/a samples, so at cadences slower than about
	// 7.5 minutes, where seasonSmoothHalfLife samples span more than an
	// hour, a is 1/(1 + samples per hour) (0.5 at 1 h) and the average no
	// longer flattens the rhythm the profile learns.
	d.aSmooth = float32(max(aSmooth, dt/(3600+dt)))
	d.pk = uint32(max(1, math.Round(periodBlock/dt)))

}

// step is the sampling interval in seconds the time memories are converted
// with: the observed cadence, or refCadence for a series whose timestamps
// have not advanced.
func (d *Detector) step() float64 {
	if d.clk.Cadence > 0 {
		return d.clk.Cadence
	}
	return refCadence
}

// seasonal reports whether the daily profile may report: every hourly bin
// must see samples each day (cadence up to an hour) and the series must
// span seasonHistory.
func (d *Detector) seasonal(dt float64) bool {
	return d.daily && dt <= 3600 && float64(d.n)*dt >= seasonHistory
}

// explain fills the expected value and band: the time-of-day profile of
// the sample's hour where the profile reports, else the slow mean, each
// with its own deviation.
func (d *Detector) explain(r Result, hour int) Result {
	m, dev := d.slow, d.dev
	if sm, sd, ok := d.sea.profile(hour); ok && d.seasonal(d.step()) && d.p.disable&FeatureSeason == 0 {
		m, dev = sm, sd
	}
	w := bandWidth * max(dev, stats.Floor(d.slow, d.quantum))
	r.Expected, r.Lower, r.Upper = m, m-w, m+w
	return r
}
