package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Policy is one entry of the policies list: how the series whose id
// matches are judged. The first policy whose pattern matches applies.
// Pattern semantics and overlap rules belong to the detector, which the
// caller asks; this package checks the fields.
type Policy struct {
	Name string `yaml:"name"`
	// Match are globs, matched case-insensitively ('*' any run, '?' one
	// character); Regex is a regular expression matched as written. Give
	// one of them.
	Match []string `yaml:"match"`
	Regex string   `yaml:"regex"`
	// Limits are operating limits: outside them a value is a limit
	// violation and an anomaly.
	Limits *Bounds `yaml:"limits"`
	// ExpectedRange is the expected data range: outside it a value is an
	// anomaly.
	ExpectedRange *Bounds `yaml:"expected_range"`
	// Threshold in (0, 1] decides the anomaly flag from the score; 0 keeps
	// the scorer's decision.
	Threshold float64 `yaml:"threshold"`
	// Direction is up, down or both (empty: both): the side of the
	// expected value on which a value may be anomalous.
	Direction string `yaml:"direction"`
	// MinDeviation and MinRelativeDeviation (a fraction of |expected|):
	// a value closer than either to the expected value is not anomalous.
	MinDeviation         float64 `yaml:"min_deviation"`
	MinRelativeDeviation float64 `yaml:"min_relative_deviation"`
	// Sensitivity in [MinSensitivity, MaxSensitivity] multiplies the
	// expected false-alarm rate of the model's calibrated mechanisms by
	// this factor; absent means 1.
	Sensitivity *float64 `yaml:"sensitivity"`
	// Mechanisms turns the model's mechanisms off (or on) for these
	// series: a map from a mechanism name (MechanismNames) to "off" or
	// "on".
	Mechanisms map[string]string `yaml:"mechanisms"`
	// Line is where the entry starts.
	Line int `yaml:"-"`
}

// MechanismNames are the mechanisms a policy may turn off: the model's
// own detectors, by the names verdicts carry (detector.Mechanism).
var MechanismNames = []string{"shift", "season", "novelty", "stuck", "record", "context", "state"}

// MinSensitivity and MaxSensitivity bound a policy's sensitivity, as
// detector.MinSensitivity and MaxSensitivity (checked here too so the
// error names the line).
const (
	MinSensitivity = 0.01
	MaxSensitivity = 100
)

// maxPolicyName is detector.MaxPolicyNameBytes, checked here too so the
// error names the line.
const maxPolicyName = 64

// Bounds are a low and/or a high bound; an absent side is not checked.
type Bounds struct {
	Min *float64 `yaml:"min"`
	Max *float64 `yaml:"max"`
}

// Policies returns the file's policies and whether it has a policies key
// at all (without one the caller keeps its default policies; an empty
// list means none).
func (c *Config) Policies() ([]Policy, bool) { return c.policies, c.hasPolicies }

func (c *Config) decodePolicies(file string, n ast.Node) []error {
	c.hasPolicies = true
	if _, null := n.(*ast.NullNode); null {
		return nil
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return []error{&Error{File: file, Line: line(n), Key: "policies", Err: errors.New("want a list of policies")}}
	}
	var errs []error
	for i, el := range seq.Values {
		key := fmt.Sprintf("policies[%d]", i)
		if errs2 := unknownFields(file, key, el, reflect.TypeFor[Policy]()); len(errs2) > 0 {
			errs = append(errs, errs2...)
			continue
		}
		var p Policy
		if err := yaml.NodeToValue(el, &p, yaml.Strict()); err != nil {
			e := yamlError(file, err).(*Error)
			e.Key = key
			errs = append(errs, e)
			continue
		}
		p.Line = line(el)
		if m, ok := mapping(el); ok && len(m.Values) > 0 {
			p.Line = line(m.Values[0].Key)
		}
		for _, pr := range p.problems() {
			errs = append(errs, &Error{File: file, Line: keyLine(el, pr.key, p.Line), Key: key + "." + pr.key, Err: errors.New(pr.msg)})
		}
		c.policies = append(c.policies, p)
	}
	return errs
}

type problem struct{ key, msg string }

func (p Policy) problems() []problem {
	var ps []problem
	add := func(bad bool, key, msg string) {
		if bad {
			ps = append(ps, problem{key, msg})
		}
	}
	add(p.Name == "", "name", "required")
	add(len(p.Name) > maxPolicyName, "name", fmt.Sprintf("longer than %d bytes (every verdict carries it)", maxPolicyName))
	add((len(p.Match) > 0) == (p.Regex != ""), "match", "give match (globs) or regex, one of them")
	for _, g := range p.Match {
		add(g == "", "match", "empty glob")
	}
	if p.Regex != "" {
		_, err := regexp.Compile(p.Regex)
		add(err != nil, "regex", fmt.Sprintf("invalid regular expression: %v", err))
	}
	add(p.Threshold < 0 || p.Threshold > 1 || math.IsNaN(p.Threshold), "threshold", "want a score in (0, 1] (0 keeps the scorer's decision)")
	if k := p.Sensitivity; k != nil {
		add(!(*k >= MinSensitivity && *k <= MaxSensitivity), "sensitivity",
			fmt.Sprintf("%v outside [%v, %v]: a factor on the expected false alarms (1: the default, 10: ten times as many)", *k, MinSensitivity, MaxSensitivity))
	}
	add(p.Direction != "" && p.Direction != "up" && p.Direction != "down" && p.Direction != "both", "direction", "want up, down or both")
	add(!(p.MinDeviation >= 0) || math.IsInf(p.MinDeviation, 0), "min_deviation", "want a finite value, 0 or more")
	add(!(p.MinRelativeDeviation >= 0) || math.IsInf(p.MinRelativeDeviation, 0), "min_relative_deviation", "want a finite fraction, 0 or more")
	for name, state := range p.Mechanisms {
		add(!slices.Contains(MechanismNames, name), "mechanisms", fmt.Sprintf("unknown mechanism %q: want one of %v", name, MechanismNames))
		add(state != "on" && state != "off", "mechanisms", fmt.Sprintf("mechanism %s: %q, want on or off", name, state))
	}
	for key, b := range map[string]*Bounds{"limits": p.Limits, "expected_range": p.ExpectedRange} {
		if b == nil {
			continue
		}
		add(b.Min == nil && b.Max == nil, key, "want min, max or both")
		add(b.Min != nil && math.IsNaN(*b.Min) || b.Max != nil && math.IsNaN(*b.Max), key, "NaN bound")
		add(b.Min != nil && b.Max != nil && *b.Min > *b.Max, key, "min above max")
	}
	return ps
}
