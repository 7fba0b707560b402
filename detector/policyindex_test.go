package detector

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPolicyIndexAgreesWithRegexps: on random policy lists (literal and
// wildcard globs over runes whose simple folds differ in width, regexes)
// and random ids, Match picks the first policy whose regexp matches, and
// NewPolicies refuses exactly the list the pairwise check refused, with
// the same index and message.
func TestPolicyIndexAgreesWithRegexps(t *testing.T) {
	alphabet := []rune{'a', 'A', 'k', 'K', '\u212a', 's', '\u017f', 'S', '/', 'é', 'É'}
	rng := rand.New(rand.NewPCG(3, 4))
	word := func(n int, wild bool) string { return randomWord(rng, alphabet, n, wild) }
	regexes := []string{"^a", "s$", "(?i)k", "^é/"}
	accepted := 0
	for range 3000 {
		var ps []Policy
		for i := range 1 + rng.IntN(5) {
			p := Policy{Name: fmt.Sprint("p", rng.IntN(6))}
			if rng.IntN(6) == 0 {
				p.Regex = regexes[rng.IntN(len(regexes))]
			} else {
				for range 1 + rng.IntN(3) {
					p.Globs = append(p.Globs, cmpOr(word(1+rng.IntN(3), rng.IntN(3) == 0), "a"))
				}
			}
			if i > 0 && rng.IntN(2) == 0 {
				p.Name = fmt.Sprint("q", i) // mostly distinct names, so the patterns decide
			}
			ps = append(ps, p)
		}
		got, err := NewPolicies(ps)
		wantIdx, wantErr := pairwiseShadows(t, ps)
		var pe *PolicyError
		switch {
		case wantIdx < 0 && err != nil:
			t.Fatalf("NewPolicies(%+v) = %v, want it accepted", ps, err)
		case wantIdx >= 0 && (!errors.As(err, &pe) || pe.Index != wantIdx || pe.Err.Error() != wantErr.Error()):
			t.Fatalf("NewPolicies(%+v) = %v, want policy %d refused: %v", ps, err, wantIdx, wantErr)
		case err != nil:
			continue
		}
		accepted++
		for range 20 {
			id := word(1+rng.IntN(4), false)
			want := -1
			for i := range got.list {
				if oracleRegexp(got.list[i].Policy).MatchString(id) {
					want = i
					break
				}
			}
			if i := got.index(id); i != want {
				t.Fatalf("policies %+v: index(%q) = %d, want %d (the first regexp that matches)", ps, id, i, want)
			}
		}
	}
	if accepted < 300 {
		t.Fatalf("only %d random lists accepted: the test checks too little", accepted)
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// oracleRegexp is the one regular expression p's patterns stand for: its
// regex, or its globs as GlobRegexp alternatives.
func oracleRegexp(p Policy) *regexp.Regexp {
	if p.Regex != "" {
		return regexp.MustCompile(p.Regex)
	}
	parts := make([]string, len(p.Globs))
	for i, g := range p.Globs {
		parts[i] = GlobRegexp(g)
	}
	return regexp.MustCompile("(?i)^(?:" + strings.Join(parts, "|") + ")$")
}

// pairwiseShadows is the check NewPolicies made before its index, policy
// against every earlier one: the index of the first refused policy and
// why, or -1.
func pairwiseShadows(t *testing.T, ps []Policy) (int, error) {
	t.Helper()
	var earlier []compiled
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			t.Fatalf("Validate(%+v) = %v", p, err)
		}
		for _, e := range earlier {
			switch {
			case e.Name == p.Name:
				return i, fmt.Errorf("name already used")
			case p.Regex != "" && p.Regex == e.Regex:
				return i, fmt.Errorf("regex already in policy %q", e.Name)
			case slices.Contains(e.Globs, "*"):
				return i, fmt.Errorf("unreachable: policy %q before it matches every series (first match wins)", e.Name)
			}
			for _, g := range p.Globs {
				if slices.ContainsFunc(e.Globs, func(x string) bool { return strings.EqualFold(x, g) }) {
					return i, fmt.Errorf("glob %q already in policy %q", g, e.Name)
				}
				if !strings.ContainsAny(g, "*?") && e.re.MatchString(g) {
					return i, fmt.Errorf("glob %q is already matched by policy %q (first match wins)", g, e.Name)
				}
			}
		}
		earlier = append(earlier, compiled{Policy: p, re: oracleRegexp(p)})
	}
	return -1, nil
}

// BenchmarkNewPoliciesLiterals: two policies of 20,000 literal globs each,
// as a list generated per channel would hold (5.6 s to load with the
// pairwise check).
func BenchmarkNewPoliciesLiterals(b *testing.B) {
	ps := []Policy{{Name: "a"}, {Name: "b"}}
	for i := range 20_000 {
		ps[0].Globs = append(ps[0].Globs, fmt.Sprintf("s%d/x", i))
		ps[1].Globs = append(ps[1].Globs, fmt.Sprintf("t%d/x", i))
	}
	for b.Loop() {
		if _, err := NewPolicies(ps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPoliciesMatchLiterals: the first match of a new series id among
// 40,000 literal globs.
func BenchmarkPoliciesMatchLiterals(b *testing.B) {
	ps := []Policy{{Name: "a"}, {Name: "b"}}
	for i := range 20_000 {
		ps[0].Globs = append(ps[0].Globs, fmt.Sprintf("s%d/x", i))
		ps[1].Globs = append(ps[1].Globs, fmt.Sprintf("t%d/x", i))
	}
	pol, err := NewPolicies(ps)
	if err != nil {
		b.Fatal(err)
	}
	ids := []string{"t19999/x", "sat1/voltage", "S7/X", "u1/x"}
	for i := 0; b.Loop(); i++ {
		pol.Match(ids[i&3])
	}
}
