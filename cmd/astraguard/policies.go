package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/heuristic"
	configfile "github.com/astraguard/astraguard/internal/config"
)

// policies returns the per-series policies: the file's list if it has a
// policies key, else detector.DefaultPolicies (the seed's limits). The
// detector decides pattern overlaps; its refusal is reported with the
// policy's key and line.
func policies(cfg config) ([]detector.Policy, *detector.Policies, error) {
	list := detector.DefaultPolicies()
	var fromFile []configfile.Policy
	if cfg.file != nil {
		if fp, ok := cfg.file.Policies(); ok {
			fromFile, list = fp, make([]detector.Policy, 0, len(fp))
			for _, p := range fp {
				dir, _ := detector.ParseDirection(p.Direction) // the file checked it
				list = append(list, detector.Policy{Name: p.Name, Globs: p.Match, Regex: p.Regex,
					Limit: limitOf(p.Limits), Range: limitOf(p.ExpectedRange), Threshold: p.Threshold,
					Direction: dir, MinDeviation: p.MinDeviation, MinRelativeDeviation: p.MinRelativeDeviation,
					Sensitivity: deref(p.Sensitivity), Off: offMechanisms(p.Mechanisms)})
			}
		}
	}
	ps, err := detector.NewPolicies(list)
	var pe *detector.PolicyError
	if errors.As(err, &pe) && pe.Index < len(fromFile) {
		return nil, nil, &configfile.Error{File: cfg.file.Path(), Line: fromFile[pe.Index].Line,
			Key: fmt.Sprintf("policies[%d]", pe.Index), Err: pe.Err}
	}
	return list, ps, err
}

// offMechanisms lists the mechanisms a policy turns off, in a fixed
// order. The file checked the names; one the detector does not know maps
// to MechanismOther, which NewPolicies refuses.
func offMechanisms(m map[string]string) []detector.Mechanism {
	var off []detector.Mechanism
	for _, name := range configfile.MechanismNames {
		if m[name] == "off" {
			off = append(off, detector.ParseMechanism(name))
		}
	}
	return off
}

func limitOf(b *configfile.Bounds) heuristic.Limit {
	if b == nil {
		return heuristic.Limit{}
	}
	l := heuristic.Limit{Low: math.Inf(-1), High: math.Inf(1)}
	if b.Min != nil {
		l.Low, l.CheckLow = *b.Min, true
	}
	if b.Max != nil {
		l.High, l.CheckHigh = *b.Max, true
	}
	return l
}

// deref is *f, or 0 (the detector's default) for nil.
func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}
