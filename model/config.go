package model

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidConfig is returned by constructors for out-of-range settings.
var ErrInvalidConfig = errors.New("invalid model config")

// Config tunes the model. The zero value works; each field documents its
// default, used when the field is zero. Defaults were chosen on the NAB
// development subset (see internal/nabeval).
type Config struct {
	// WarmUp is the number of samples learned before the detector reports
	// (Warm=false, Anomaly=false and Score=0 until then). Default 300:
	// fewer samples leave the long-run statistics too noisy to trust, and
	// NAB's probation is 15% of a file, at most 750 rows.
	WarmUp int

	// SlowHalfLife is the half-life, in samples, of the slow mean and
	// deviation that define "normal". Default 1000 (3.5 days of 5-minute
	// data): a longer memory keeps one busy day from redefining normal.
	SlowHalfLife float64

	// FastHalfLife is the half-life, in samples, of the fast mean compared
	// with the slow one to detect level shifts. Default 4.
	FastHalfLife float64

	// ShortHalfLife is the half-life, in samples, of the likelihood's short
	// moving average of each feature. Default 2.
	ShortHalfLife float64

	// LongHalfLife is the half-life, in samples, of the likelihood's
	// long-run mean and variance of each feature. Default 2000.
	LongHalfLife float64

	// SeasonRate is the learning rate of each hourly bin of the time-of-day
	// profile. Default 0.025 (about a week of memory for 5-minute data).
	SeasonRate float64

	// Threshold is the score at or above which a sample is flagged
	// (Result.Anomaly). Default 0.48, a tail probability of about 1.6e-5 on
	// Numenta's log scale. It also arms the suppression, so it should sit
	// near where the NAB threshold sweep lands (0.50 on the development
	// subset): a lower sweep than flag threshold lets near-misses through
	// unsuppressed, a higher one suppresses after flags the sweep ignores.
	Threshold float64

	// Suppress is the number of samples after a flag during which scores
	// are forced to 0: an anomaly is one event, and NAB (like an operator)
	// counts later detections of it only as false positives. Default 40;
	// negative disables suppression.
	Suppress int

	// Disable is a bit mask of features to switch off (FeatureShift,
	// FeatureSeason, FeatureNovelty, FeatureStuck, FeatureRecord), for
	// ablation. Default 0: all on.
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
)

const allFeatures = FeatureShift | FeatureSeason | FeatureNovelty | FeatureStuck | FeatureRecord

// params is Config resolved to the numbers the hot path uses; it is shared
// by every Detector built from one Config so per-series state stays small.
type params struct {
	warmUp                      int
	aSlow, aFast, aShort, aLong float64
	aSeason, aSmooth            float64
	threshold                   float64
	suppress                    int
	disable                     uint8
}

// alpha turns a half-life in samples into an EWMA weight.
func alpha(halfLife float64) float64 { return 1 - math.Exp2(-1/halfLife) }

func (c Config) params() (*params, error) {
	def := func(v, d float64) float64 {
		if v == 0 {
			return d
		}
		return v
	}
	p := &params{
		warmUp:    c.WarmUp,
		threshold: def(c.Threshold, 0.48),
		suppress:  c.Suppress,
		aSeason:   def(c.SeasonRate, 0.025),
		aSmooth:   alpha(seasonSmoothHalfLife),
		disable:   c.Disable,
	}
	if p.warmUp == 0 {
		p.warmUp = 300
	}
	switch {
	case p.suppress == 0:
		p.suppress = 40
	case p.suppress < 0:
		p.suppress = 0
	}
	hl := []float64{def(c.SlowHalfLife, 1000), def(c.FastHalfLife, 4), def(c.ShortHalfLife, 2), def(c.LongHalfLife, 2000)}
	for _, h := range hl {
		if !(h > 0) || math.IsInf(h, 0) {
			return nil, fmt.Errorf("%w: half-life %v must be positive and finite", ErrInvalidConfig, h)
		}
	}
	p.aSlow, p.aFast, p.aShort, p.aLong = alpha(hl[0]), alpha(hl[1]), alpha(hl[2]), alpha(hl[3])
	switch {
	case p.warmUp < 0:
		return nil, fmt.Errorf("%w: WarmUp %d is negative", ErrInvalidConfig, c.WarmUp)
	case !(p.threshold > 0 && p.threshold <= 1):
		return nil, fmt.Errorf("%w: Threshold %v not in (0, 1]", ErrInvalidConfig, c.Threshold)
	case !(p.aSeason > 0 && p.aSeason <= 1):
		return nil, fmt.Errorf("%w: SeasonRate %v not in (0, 1]", ErrInvalidConfig, c.SeasonRate)
	case p.disable&^allFeatures != 0:
		return nil, fmt.Errorf("%w: Disable %#x has unknown feature bits", ErrInvalidConfig, c.Disable)
	}
	return p, nil
}
