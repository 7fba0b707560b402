package detector

import "math"

// Mechanism names the detector mechanism behind a score, so an operator can
// tell a level shift from a broken daily pattern or a frozen sensor. Models
// report it by name (the names below); its order matches the API's
// Mechanism enum.
type Mechanism uint8

// Mechanisms.
const (
	MechanismNone    Mechanism = iota // nothing fired (score 0), or not reported
	MechanismShift                    // the recent mean left the long-run one (level shift, spike)
	MechanismSeason                   // the value left its time-of-day profile
	MechanismNovelty                  // unseen sequences of value levels
	MechanismStuck                    // a record-breaking run of identical values
	MechanismRecord                   // a value beyond everything seen so far
	MechanismLimit                    // an operating or plausibility limit was broken
	MechanismOther                    // a model named a mechanism not listed here
	MechanismContext                  // the series left its own short-term behaviour (predictor error)
	MechanismState                    // a few-valued series left its states (value, transition, dwell)
	numMechanisms
)

var mechanismNames = [numMechanisms]string{"none", "shift", "season", "novelty", "stuck", "record", "limit", "other", "context", "state"}

// String returns m's name, as models send it and agctl prints it.
func (m Mechanism) String() string {
	if m < numMechanisms {
		return mechanismNames[m]
	}
	return "other"
}

// ParseMechanism maps a model's mechanism name to a Mechanism: "" is
// MechanismNone and an unlisted name MechanismOther. It does not allocate.
func ParseMechanism(name string) Mechanism {
	if name == "" {
		return MechanismNone
	}
	for m, n := range mechanismNames {
		if n == name && Mechanism(m) != MechanismOther {
			return Mechanism(m)
		}
	}
	return MechanismOther
}

// Explanation says why a sample scored as it did: the mechanism that fired
// and, when HasBand, the value expected and the ordinary range around it
// (Lower <= Expected <= Upper), for drawing a band as Datadog or
// vmanomaly's yhat/yhat_lower/yhat_upper do.
type Explanation struct {
	Mechanism              Mechanism
	HasBand                bool
	Expected, Lower, Upper float64
}

// sanitized returns e with a band that is not finite and ordered dropped
// and an unknown mechanism mapped to MechanismOther: a model's
// explanation is untrusted input like its score.
func (e Explanation) sanitized() Explanation {
	if e.Mechanism >= numMechanisms {
		e.Mechanism = MechanismOther
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if !e.HasBand || !finite(e.Expected) || !finite(e.Lower) || !finite(e.Upper) || !(e.Lower <= e.Expected && e.Expected <= e.Upper) {
		e.HasBand, e.Expected, e.Lower, e.Upper = false, 0, 0, 0
	}
	return e
}
