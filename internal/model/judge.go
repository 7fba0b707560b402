package model

import (
	"fmt"
	"math"

	"github.com/astraguard/astraguard/internal/stats"
)

// Judge is how one Update call judges its sample: the service passes the
// policy of the sample's series (see UpdateJudged). The zero Judge is the
// model's own judgement, Update's. A Judge is not part of the state.
type Judge struct {
	// Off holds the feature bits (as Config.Disable: FeatureShift,
	// FeatureSeason, FeatureNovelty, FeatureStuck, FeatureRecord,
	// FeatureContext, FeatureState) of the mechanisms that take no part
	// in the score, the flag or the suppression. Unlike Config.Disable
	// they keep learning. Turning FeatureState off silences a series
	// that is judged on its states (it is not judged on the others
	// instead: their scores mean nothing on a mode-switching channel).
	Off uint8

	// Threshold in (0, 1] replaces Config.Threshold for this sample: the
	// score from which it is flagged and the suppression armed. 0 keeps
	// Config.Threshold.
	Threshold float64

	// Sensitivity multiplies the expected false-alarm rate of the
	// calibrated mechanisms (shift, season's daily profile, novelty: the
	// ones scored on stats.LogTailRate's scale) by this factor, by moving
	// the threshold (stats.ScaleThreshold). The yes/no mechanisms (stuck,
	// record, context, state, the learned period) score 1 and flag at
	// every threshold. 0 means 1. Resolve folds it into Threshold once,
	// so that UpdateJudged need not take a logarithm per sample.
	Sensitivity float64
}

// MinSensitivity and MaxSensitivity bound Judge.Sensitivity: four orders
// of magnitude of false alarms, about 0.2 of score either way at the
// default threshold.
const (
	MinSensitivity = 0.01
	MaxSensitivity = 100
)

// Validate reports a judge whose fields are out of range.
func (j Judge) Validate() error {
	switch {
	case j.Off&^allFeatures != 0:
		return fmt.Errorf("%w: judge turns off unknown feature bits %#x", ErrInvalidConfig, j.Off)
	case j.Threshold < 0 || j.Threshold > 1 || math.IsNaN(j.Threshold):
		return fmt.Errorf("%w: judge threshold %v not in (0, 1]", ErrInvalidConfig, j.Threshold)
	case j.Sensitivity != 0 && !(j.Sensitivity >= MinSensitivity && j.Sensitivity <= MaxSensitivity):
		return fmt.Errorf("%w: sensitivity %v not in [%v, %v]", ErrInvalidConfig, j.Sensitivity, MinSensitivity, MaxSensitivity)
	}
	return nil
}

// Resolve returns j with its sensitivity folded into its threshold
// (Config.Threshold where j has none): the same judgement, cheaper per
// sample.
func (t *Template) Resolve(j Judge) Judge {
	if j.Sensitivity == 0 || j.Sensitivity == 1 {
		return j
	}
	j.Threshold, j.Sensitivity = j.threshold(t.p.threshold), 0
	return j
}

// threshold is the score from which j flags, def being Config.Threshold.
func (j Judge) threshold(def float64) float64 {
	t := def
	if j.Threshold > 0 {
		t = j.Threshold
	}
	if j.Sensitivity != 0 && j.Sensitivity != 1 {
		t = stats.ScaleThreshold(t, j.Sensitivity)
	}
	return t
}

// Feature returns the feature bit of mechanism m, for Judge.Off: 0 for
// MechanismNone and MechanismLimit, which cannot be turned off.
func (m Mechanism) Feature() uint8 {
	switch m {
	case MechanismShift, MechanismSeason, MechanismNovelty:
		return 1 << (m - 1)
	case MechanismStuck:
		return FeatureStuck
	case MechanismRecord:
		return FeatureRecord
	case MechanismContext:
		return FeatureContext
	case MechanismState:
		return FeatureState
	}
	return 0
}
