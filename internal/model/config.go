package model

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/astraguard/astraguard/internal/stats"
)

// ErrInvalidConfig is returned by constructors for out-of-range settings.
var ErrInvalidConfig = errors.New("invalid model config")

// Config tunes the model. The zero value works; each field documents its
// default, used when the field is zero. Memories that describe the world
// (what is normal, the daily profile, how long an event lasts) are in time,
// converted per series with its observed sampling interval, so a series
// sampled every second and one sampled every hour learn over the same
// span. Filters against sample noise are in samples. Defaults are chosen
// by cross-validation on the NAB development subset (internal/nabeval,
// make eval).
type Config struct {
	// WarmUp is the most samples learned before the detector reports
	// (Warm=false, Anomaly=false and Score=0 until then); a series also
	// becomes warm once it spans WarmUpTime with at least warmUpMin
	// samples, whichever comes first. Default 300.
	WarmUp int

	// WarmUpTime is the span of data after which a series is warm even
	// before WarmUp samples (slow cadences). Default 24h.
	WarmUpTime time.Duration

	// SlowHalfLife is the half-life of the slow mean and deviation that
	// define "normal". Default 84h: a long memory keeps one busy day from
	// redefining normal.
	SlowHalfLife time.Duration

	// FastHalfLife is the half-life, in samples, of the fast mean compared
	// with the slow one to detect level shifts. Default 4.
	FastHalfLife float64

	// ShortHalfLife is the half-life, in samples, of the likelihood's short
	// moving average of each feature. Default 2.
	ShortHalfLife float64

	// LongHalfLife is the half-life of the likelihood's long-run mean and
	// variance of each feature. Default 168h (a week).
	LongHalfLife time.Duration

	// SeasonHalfLife is the half-life, in calendar time, of each hourly
	// bin of the time-of-day profile. Default 48h.
	SeasonHalfLife time.Duration

	// Threshold is the score at or above which a sample is flagged
	// (Result.Anomaly). Default 0.95: a tail probability of about 3e-10
	// per five minutes of data on Numenta's log scale (see refCadence), so
	// only overwhelming evidence flags; stuck and record events score 1.
	// It also arms the suppression.
	Threshold float64

	// Suppress is how long after a flag scores are forced to 0: an anomaly
	// is one event, and NAB (like an operator) counts later detections of
	// it only as false positives. Default 200m; negative disables it.
	Suppress time.Duration

	// SeasonGate is how strong a daily rhythm must be before the
	// time-of-day profile reports: the spread (standard deviation) of the
	// 24 hourly means over the hours' average deviation. Default 3.
	SeasonGate float64

	// ContextHalfLife is the half-life, in samples, of the smoothing of
	// the predictor's error (telemanom's EWMA of the errors) before the
	// likelihood. Default 8.
	ContextHalfLife float64

	// ContextMemory is the RLS predictor's forgetting half-life, in
	// samples. Default 500.
	ContextMemory float64

	// ContextPrune is how far the smoothed prediction error must exceed
	// the largest one seen before to flag, as a share (telemanom's
	// minimum percentage, 0.13 in its published runs). Default 0.25.
	ContextPrune float64

	// ContextMaxHalfLife is the half-life, in samples, of the largest
	// smoothed error the predictor's flags are judged against (telemanom
	// judges against a window of errors, in samples), or LongHalfLife
	// where that is longer. Default 10000.
	ContextMaxHalfLife float64

	// PeriodPrune is the pruning share of the learned period's smoothed
	// error (as ContextPrune, for the block one period earlier). Default:
	// ContextPrune's. A candidate for the cross-validation (0.15 scored
	// better on the spacecraft channels in-sample; see
	// docs/model-tuning.md for why it is not the default).
	PeriodPrune float64

	// RecordBand is how far outside the ordinary range a new extreme must
	// also be to flag, in slow mean absolute deviations from the slow
	// mean: a range that creeps outward by a little, one value at a time,
	// sets records no operator would call anomalous. Default 0 (every
	// record beyond the margin flags; negative is the same). A candidate
	// for the cross-validation (see docs/model-tuning.md).
	RecordBand float64

	// RecordTrend is how many standard deviations a series' count of new
	// highs (lows) may exceed the count an exchangeable series of the
	// same length sets before its new highs (lows) stop being news: a
	// series that trends keeps setting records, each a little beyond the
	// last (Foster and Stuart's records test for trend, 1954). Default 7;
	// negative turns the test off.
	RecordTrend float64

	// RecordStep is how far past the old extreme, in slow mean absolute
	// deviations, a new extreme must reach to flag, besides recordMargin
	// of the range: a stationary series keeps setting records, each a
	// fraction of its noise beyond the last (the gaps between successive
	// records of light-tailed noise shrink as the record grows), while a
	// breakout clears the old extreme by more than the noise. Default
	// 0.25; negative turns the test off.
	RecordStep float64

	// RecordDrift scales the local trend along which the extremes a new
	// value is judged against are carried: each sample the record levels
	// move by RecordDrift times the series' slope (an exponentially
	// weighted least-squares line on the sample index, with the slow
	// mean's weights), never inside the all-time range, so a series whose
	// level drifts sets no record by keeping up with its own trend, while
	// a breakout beyond the range still does. A new extreme more than the
	// slow half-life after the last one restarts the carried level at
	// itself: a slope fitted over a span without records no longer says
	// where the extreme would have drifted. Default 1 (the fitted slope);
	// negative turns the carrying off.
	RecordDrift float64

	// ExcursionBand is the distance from the slow mean, in slow mean
	// absolute deviations, beyond which a sample is on an excursion: a
	// stay beyond it, on one side, longer than any before by the state
	// machine's dwell margin (after as many earlier excursions on that
	// side as the dwell rule asks of a state) flags as context, although
	// its values may be ordinary (see stats.Excursion, the dwell rule
	// the state machine uses too). Default 2; negative turns the rule
	// off.
	ExcursionBand float64

	// ShiftClip is the size, in slow mean absolute deviations from the
	// slow mean, beyond which a value is an outlier, and the clip of the
	// fast mean's update (Huber's psi) on a series whose outliers are
	// routine (see ShiftTail): there one outlier is noise, not a level
	// shift. A second outlier on the same side gives back what the clip
	// held back of the first, so a spike of two samples or more, and a
	// level shift, move the fast mean as before. Default 10; negative
	// turns the clip off.
	ShiftClip float64

	// ShiftTail is the long-run rate of outliers (see ShiftClip) above
	// which a series' outliers are routine and its fast mean's update is
	// clipped. Gaussian noise passes 10 deviations about once in 1e10
	// samples, Student-t(3) noise once in 600. Default 0.001.
	ShiftTail float64

	// Disable is a bit mask of features to switch off (FeatureShift,
	// FeatureSeason, FeatureNovelty, FeatureStuck, FeatureRecord,
	// FeatureContext, FeatureState), for ablation. Default 0: all on.
	Disable uint8
}

// Feature bits for Config.Disable.
const (
	FeatureShift uint8 = 1 << iota
	FeatureSeason
	FeatureNovelty
	numFeatures = iota
	// FeatureStuck is the flatline detector; it bypasses the likelihood.
	FeatureStuck uint8 = 1 << numFeatures
	// FeatureRecord is the new-extreme detector; it bypasses the
	// likelihood.
	FeatureRecord uint8 = FeatureStuck << 1
	// FeatureContext is the per-series predictor's smoothed error.
	FeatureContext uint8 = FeatureRecord << 1
	// FeatureState judges series with few distinct values on their states.
	FeatureState uint8 = FeatureContext << 1
)

const allFeatures = FeatureShift | FeatureSeason | FeatureNovelty | FeatureStuck | FeatureRecord | FeatureContext | FeatureState

// refCadence is the sampling interval at which Threshold's tail probability
// holds per sample (stats.RefCadence): false positives per day, not per
// sample, stay put.
const refCadence = stats.RefCadence // seconds

// warmUpMin is the fewest samples any series learns before it reports.
const warmUpMin = 30

// params is Config resolved to the numbers the hot path uses; it is shared
// by every Detector built from one Config so per-series state stays small.
// Time memories are in seconds.
type params struct {
	warmUp                   int
	warmUpTime               float64
	slowHL, longHL, seasonHL float64
	aFast, aShort            float64
	aCtx, lambda, prune      float64
	aMax                     float64
	recordBand               float64
	recordTrend              float64
	recordStep               float64
	recordDrift              float64
	excursionBand            float64
	shiftClip, shiftTail     float64
	periodPrune              float64
	seasonGate               float64
	threshold                float64
	suppress                 float64
	disable                  uint8
}

func (c Config) params() (*params, error) {
	def := func(v, d float64) float64 {
		if v == 0 {
			return d
		}
		return v
	}
	dur := func(v, d time.Duration) float64 { return def(v.Seconds(), d.Seconds()) }
	p := &params{
		warmUp:     c.WarmUp,
		warmUpTime: dur(c.WarmUpTime, 24*time.Hour),
		slowHL:     dur(c.SlowHalfLife, 84*time.Hour),
		longHL:     dur(c.LongHalfLife, 168*time.Hour),
		seasonHL:   dur(c.SeasonHalfLife, 48*time.Hour),
		threshold:  def(c.Threshold, 0.95),
		suppress:   dur(c.Suppress, 200*time.Minute),
		disable:    c.Disable,
		seasonGate: def(c.SeasonGate, 3),
	}
	if p.warmUp == 0 {
		p.warmUp = 300
	}
	if p.suppress < 0 {
		p.suppress = 0
	}
	hl := []float64{def(c.FastHalfLife, 4), def(c.ShortHalfLife, 2), p.slowHL, p.longHL, p.seasonHL, p.warmUpTime,
		def(c.ContextHalfLife, 8), def(c.ContextMemory, 500)}
	for _, h := range hl {
		if !(h > 0) || math.IsInf(h, 0) {
			return nil, fmt.Errorf("%w: half-life or warm-up %v must be positive and finite", ErrInvalidConfig, h)
		}
	}
	p.aFast, p.aShort = stats.Alpha(hl[0]), stats.Alpha(hl[1])
	p.aCtx, p.lambda = stats.Alpha(hl[6]), 1-stats.Alpha(hl[7])
	p.prune = def(c.ContextPrune, 0.25)
	p.recordBand = max(c.RecordBand, 0)
	p.recordTrend = def(c.RecordTrend, 7)
	if p.recordTrend < 0 {
		p.recordTrend = math.Inf(1)
	}
	p.recordStep = max(def(c.RecordStep, 0.25), 0)
	p.recordDrift = max(def(c.RecordDrift, 1), 0)
	p.periodPrune = def(c.PeriodPrune, p.prune)
	p.excursionBand = max(def(c.ExcursionBand, 2), 0)
	p.shiftClip = def(c.ShiftClip, 10)
	if p.shiftClip < 0 {
		p.shiftClip = math.Inf(1)
	}
	p.shiftTail = def(c.ShiftTail, 0.001)
	if math.IsNaN(c.ShiftClip) || math.IsInf(c.ShiftClip, 0) || !(p.shiftTail > 0 && p.shiftTail < 1) {
		return nil, fmt.Errorf("%w: ShiftClip %v must be finite, ShiftTail %v in (0, 1)", ErrInvalidConfig, c.ShiftClip, c.ShiftTail)
	}
	if !(p.periodPrune > 0) || math.IsInf(p.periodPrune, 0) {
		return nil, fmt.Errorf("%w: PeriodPrune %v must be positive and finite", ErrInvalidConfig, c.PeriodPrune)
	}
	if math.IsNaN(c.RecordTrend) || math.IsInf(c.RecordTrend, 0) {
		return nil, fmt.Errorf("%w: RecordTrend %v must be finite", ErrInvalidConfig, c.RecordTrend)
	}
	if math.IsNaN(c.RecordStep) || math.IsInf(c.RecordStep, 0) {
		return nil, fmt.Errorf("%w: RecordStep %v must be finite", ErrInvalidConfig, c.RecordStep)
	}
	if math.IsNaN(c.RecordDrift) || math.IsInf(c.RecordDrift, 0) {
		return nil, fmt.Errorf("%w: RecordDrift %v must be finite", ErrInvalidConfig, c.RecordDrift)
	}
	if math.IsNaN(c.ExcursionBand) || math.IsInf(c.ExcursionBand, 0) {
		return nil, fmt.Errorf("%w: ExcursionBand %v must be finite", ErrInvalidConfig, c.ExcursionBand)
	}
	if math.IsNaN(c.RecordBand) || math.IsInf(c.RecordBand, 0) {
		return nil, fmt.Errorf("%w: RecordBand %v must be finite", ErrInvalidConfig, c.RecordBand)
	}
	if h := def(c.ContextMaxHalfLife, 10000); h > 0 && !math.IsInf(h, 0) {
		p.aMax = stats.Alpha(h)
	} else {
		return nil, fmt.Errorf("%w: ContextMaxHalfLife %v must be positive and finite", ErrInvalidConfig, c.ContextMaxHalfLife)
	}
	if !(p.prune > 0) || math.IsInf(p.prune, 0) {
		return nil, fmt.Errorf("%w: ContextPrune %v must be positive and finite", ErrInvalidConfig, c.ContextPrune)
	}
	switch {
	case p.warmUp < 0:
		return nil, fmt.Errorf("%w: WarmUp %d is negative", ErrInvalidConfig, c.WarmUp)
	case !(p.threshold > 0 && p.threshold <= 1):
		return nil, fmt.Errorf("%w: Threshold %v not in (0, 1]", ErrInvalidConfig, c.Threshold)
	case !(p.seasonGate >= 0) || math.IsInf(p.seasonGate, 0):
		return nil, fmt.Errorf("%w: SeasonGate %v must be non-negative and finite", ErrInvalidConfig, c.SeasonGate)
	case p.disable&^allFeatures != 0:
		return nil, fmt.Errorf("%w: Disable %#x has unknown feature bits", ErrInvalidConfig, c.Disable)
	}
	return p, nil
}
