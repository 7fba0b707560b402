package config

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml/ast"

	"github.com/astraguard/astraguard/detector"
)

// Policies returns the file's policies, in match order, decoded straight
// into detector.Policy by its yaml tags, and whether the file has a
// policies key at all (without one the caller keeps its default policies;
// an empty list means none; a nil Config, no file, has none). Parse has
// checked each with its Validate and the list with detector.NewPolicies.
func (c *Config) Policies() ([]detector.Policy, bool) {
	if c == nil {
		return nil, false
	}
	return c.policies, c.hasPolicies
}

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
	var lines []int // where each policy starts
	for i, el := range seq.Values {
		key := fmt.Sprintf("policies[%d]", i)
		ln := line(el)
		if m, ok := mapping(el); ok && len(m.Values) > 0 {
			ln = line(m.Values[0].Key)
		}
		var p detector.Policy
		if errs2 := decodeStruct(file, key, el, reflect.ValueOf(&p).Elem()); len(errs2) > 0 {
			errs = append(errs, errs2...)
			continue
		}
		errs = append(errs, policyNamer.errors(file, key, el, ln, p.Validate())...)
		c.policies, lines = append(c.policies, p), append(lines, ln)
	}
	if len(errs) > 0 {
		return errs
	}
	// Overlaps that first-match-wins would hide are the detector's to find.
	_, err := detector.NewPolicies(c.policies)
	if pe := (*detector.PolicyError)(nil); errors.As(err, &pe) {
		return []error{&Error{File: file, Line: lines[pe.Index], Key: fmt.Sprintf("policies[%d]", pe.Index), Err: pe.Err}}
	}
	return nil
}
