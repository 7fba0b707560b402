package detector

import (
	"slices"

	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/stats"
)

// MinSensitivity and MaxSensitivity bound Policy.Sensitivity: four orders
// of magnitude of false alarms either way.
const (
	MinSensitivity = model.MinSensitivity
	MaxSensitivity = model.MaxSensitivity
)

// resolve computes what a policy's judgement needs per sample once: the
// embedded model's feature bits of Off, and Threshold moved by
// Sensitivity for judging a remote model's verdicts after the fact.
func (p *Policy) resolve() (offBits uint8, scaled float64) {
	for _, m := range p.Off {
		// The two enums share their order (TestModelMechanismsMatch).
		offBits |= model.Mechanism(m).Feature()
	}
	if p.Threshold > 0 {
		scaled = stats.ScaleThreshold(p.Threshold, p.sensitivity())
	}
	return offBits, scaled
}

func (p *Policy) sensitivity() float64 {
	if p.Sensitivity == 0 {
		return 1
	}
	return p.Sensitivity
}

// heuristicFlag is the flag level the heuristic scores p's series at
// (bind computed it): 0, the heuristic's default, for no policy.
func (p *Policy) heuristicFlag() float64 {
	if p == nil {
		return 0
	}
	return p.heurFlag
}

// modelJudge is the embedded model's judgement of p's series (bind
// resolved it): the zero Judge for no policy.
func (p *Policy) modelJudge() model.Judge {
	if p == nil {
		return model.Judge{}
	}
	return p.judgement
}

// bind returns ps for a detector whose heuristic flags at heurDef and
// whose embedded model resolves a judgement with resolve (nil with a
// remote model): a copy (same generation, so series' cached matches
// hold) whose policies carry their heuristic flag level and model
// judgement with the sensitivity folded in, computed here once rather
// than for every group scored.
func (ps *Policies) bind(heurDef float64, resolve func(model.Judge) model.Judge) *Policies {
	if ps == nil {
		return nil
	}
	b := &Policies{list: slices.Clone(ps.list), gen: ps.gen}
	for i := range b.list {
		p := &b.list[i].Policy
		switch {
		case p.Threshold > 0:
			p.heurFlag = p.scaled
		case p.sensitivity() != 1:
			p.heurFlag = stats.ScaleThreshold(heurDef, p.sensitivity())
		}
		p.judgement = model.Judge{Off: p.offBits, Threshold: p.Threshold, Sensitivity: p.Sensitivity}
		if resolve != nil {
			p.judgement = resolve(p.judgement)
		}
	}
	return b
}

// judge applies p after the fact to a verdict of value v scored by a
// remote model, which p cannot reach inside: the threshold (moved by the
// sensitivity, resolved by NewPolicies), then what an in-process scorer
// is judged by (judgeScored), mechanisms off among it.
func (p *Policy) judge(vd *Verdict, v float64) {
	if p.Threshold > 0 {
		vd.Anomaly = vd.Score >= p.scaled
	}
	p.judgeScored(vd, v)
}

// judgeScored applies p to a verdict of value v an in-process scorer
// (the embedded model or the heuristic) already scored under p's
// threshold and sensitivity: direction, minimum deviations, range and
// limits. A heuristic verdict a turned-off mechanism scored is still
// overruled (the heuristic has no separate mechanisms to leave out).
func (p *Policy) judgeScored(vd *Verdict, v float64) {
	vd.Policy = p.Name
	if slices.Contains(p.Off, vd.Explain.Mechanism) {
		vd.Score, vd.Anomaly, vd.Explain.Mechanism = 0, false, MechanismNone
	}
	// Direction and minimum deviation need the value the scorer expected;
	// a model that reports none is judged without them.
	if vd.Anomaly && vd.Explain.HasBand && !p.relevant(v-vd.Explain.Expected, vd.Explain.Expected) {
		vd.Anomaly = false
	}
	if p.Range.Violated(v) {
		vd.Score, vd.Anomaly = 1, true
	}
	vd.LimitViolation = p.Limit.Violated(v)
	if vd.LimitViolation || !stats.Plausible(v) {
		// A value beyond ±1e30 is corrupt, not a deviation to weigh by
		// direction or size: like an operating-limit violation, it stays
		// an anomaly of score 1 whatever the policy.
		vd.Score, vd.Anomaly = 1, true
		vd.Explain.Mechanism = MechanismLimit
	}
}

// applyPolicies judges the model verdicts of each group by its policy,
// pols[i] being group i's. remote says they came from a remote model,
// judged after the fact (judge); the embedded model's were scored under
// the policy already (judgeScored). The heuristic's were judged as they
// were scored (scoreGroup).
func applyPolicies(pols []*Policy, groups []Group, out []Verdict, remote bool) {
	off := 0
	for gi, g := range groups {
		if p := pols[gi]; p != nil {
			for i, v := range g.Values {
				switch vd := &out[off+i]; {
				case vd.Err != ErrNone || vd.Source != SourceModel:
				case remote:
					p.judge(vd, v)
				default:
					p.judgeScored(vd, v)
				}
			}
		}
		off += len(g.Values)
	}
}
