package model

import "math"

// Result is the model's verdict on one sample.
type Result struct {
	// Score is the anomaly score in [0, 1]; 0 while not Warm and during
	// the suppression that follows a flag.
	Score float64
	// Anomaly is the model's own decision: Score >= Config.Threshold, at
	// most once per Config.Suppress samples.
	Anomaly bool
	// Warm is false while the detector is still learning (the first
	// Config.WarmUp samples of a new or re-created series).
	Warm bool
}

// maxMagnitude bounds the values the model learns from: far beyond any
// telemetry, and small enough that the time-of-day profile's float32 bins
// (max 3.4e38) and every float64 intermediate stay finite. FuzzUpdate
// found 1e50 turning a season bin into +Inf.
const maxMagnitude = 1e30

// Detector is the model state for one series (see StateBytes). It is not
// safe for concurrent use: its owner (the service's per-series entry) serialises it.
type Detector struct {
	p *params

	n       uint32  // finite samples seen, saturating
	quiet   int32   // samples left in the post-detection suppression
	slow    float64 // slow EWMA mean
	dev     float64 // slow EWMA absolute deviation from slow
	fast    float64 // fast EWMA mean
	smooth  float64 // EWMA mean the time-of-day profile sees (see seasonSmoothHalfLife)
	prev    float64
	quantum float64 // smallest non-zero |first difference| seen
	lo, hi  float64 // range seen so far (all time: see record)

	lk  [numFeatures]likelihood
	sea season
	nov novelty
	stk stuck
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
// ±1e30 is flagged once the series is warm (score 1) and also leaves the
// state untouched.
func (d *Detector) Update(unixNanos int64, v float64) Result {
	p := d.p
	warm := int(d.n) >= p.warmUp
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Result{Warm: warm}
	}
	if math.Abs(v) > maxMagnitude {
		// Implausible for any telemetry, and unsafe to learn from: the
		// difference of two such values overflows to ±Inf, then NaN, and
		// would silence the series for good.
		if !warm {
			return Result{}
		}
		return Result{Score: 1, Anomaly: true, Warm: true}
	}
	if d.n < math.MaxUint32 {
		d.n++
	}
	hour := hourOf(unixNanos)
	if d.n == 1 {
		d.prev, d.slow, d.fast, d.smooth, d.lo, d.hi = v, v, v, v, v, v
		d.quantum = math.Inf(1)
		d.sea.update(hour, v, 0, p)
		return Result{}
	}
	// Early on the EWMAs are plain running means so they settle quickly.
	// The builtin max and min are math.Max and math.Min inlined: they differ
	// only on max(+Inf, NaN), and these arguments are finite (v is, so lo
	// and hi are), but for raw[0]'s (see there).
	r := 1 / float64(d.n)
	aSlow, aFast := max(p.aSlow, r), max(p.aFast, r)
	stuck := d.stk.update(v == d.prev)
	if step := math.Abs(v - d.prev); step > 0 && step < d.quantum {
		d.quantum = step
	}
	floor := d.floor()
	d.fast += aFast * (v - d.fast)
	d.smooth += max(p.aSmooth, r) * (v - d.smooth)
	rec := record(v, d.lo, d.hi)
	d.lo, d.hi = min(d.lo, v), max(d.hi, v)

	var raw [numFeatures]float64
	// Extreme values can overflow dev or floor. A NaN or infinite floor
	// means slow is NaN or infinite, so the numerator is NaN or +Inf and
	// raw[0] NaN whichever max picks.
	raw[0] = math.Abs(d.fast-d.slow) / max(d.dev, floor)
	raw[1] = d.sea.update(hour, d.smooth, floor, p)
	raw[2] = d.nov.update(levelOf(v, d.lo, d.hi))

	// The features are complementary detectors, so the strongest evidence
	// wins; each is already calibrated by its own likelihood. logTail is
	// monotone, so the strongest evidence is the largest z-score, and
	// logTail, half the cost of Update, runs once, and only where its
	// score can count: not while learning, not during the suppression
	// (which zeroes the score).
	zMax := 0.0
	rLong := 1 / float64(d.n-1)
	for i := range raw {
		if z := d.lk[i].update(raw[i], minStd[i], p, rLong); p.disable&(1<<i) == 0 && z > zMax {
			zMax = z
		}
	}

	d.slow += aSlow * (v - d.slow)
	d.dev += aSlow * (math.Abs(v-d.slow) - d.dev)
	d.prev = v

	if !warm {
		return Result{}
	}
	score := 0.0
	if zMax > 0 && d.quiet == 0 {
		score = logTail(zMax)
	}
	// Stuck and record are rare yes/no events with no distribution to
	// calibrate, so they join the max directly.
	if p.disable&FeatureStuck == 0 && stuck > score {
		score = stuck
	}
	if p.disable&FeatureRecord == 0 && rec > score {
		score = rec
	}
	res := Result{Score: score, Warm: true}
	switch {
	case d.quiet > 0:
		d.quiet--
		res.Score = 0
	case score >= p.threshold:
		res.Anomaly = true
		d.quiet = int32(p.suppress)
	}
	return res
}

// floor is the smallest scale used to normalise deviations: half the data's
// quantum (so integer counts that sit still do not make a 1-unit move look
// infinite) or a relative epsilon of the level for truly flat series.
func (d *Detector) floor() float64 {
	f := 1e-6 * (math.Abs(d.slow) + 1e-3)
	if q := d.quantum / 2; q > f && !math.IsInf(q, 1) {
		f = q
	}
	return f
}
