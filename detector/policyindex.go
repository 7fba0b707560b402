package detector

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Policy lists generated per channel hold thousands of literal globs (no
// '*' or '?'). Matched one by one, every new series was compared with each
// of them, and NewPolicies compared each literal with every earlier
// policy's regexp: two policies of 20,000 literals took 5.6 s to load, and
// a request of new series ids a millisecond per id. A literal glob matches
// exactly the ids equal to it under simple case folding, so literals are
// looked up by their fold key instead; the globs with wildcards and the
// regexes are still tried in order. First match wins as before.

// foldKey maps s to one representative of its class under simple case
// folding (each rune to the smallest rune of its unicode.SimpleFold
// orbit), so two strings have one key exactly when strings.EqualFold, and
// a literal glob and an id exactly when globMatch, hold for them.
func foldKey(s string) string { return string(appendFoldKey(nil, s)) }

// appendFoldKey appends s's fold key to dst. An ASCII letter's orbit
// starts with its upper case (k's is K, k and the Kelvin sign).
func appendFoldKey(dst []byte, s string) []byte {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		}
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		dst = utf8.AppendRune(dst, m)
	}
	return dst
}

// isLiteral reports whether glob has no wildcard.
func isLiteral(glob string) bool { return !strings.ContainsAny(glob, "*?") }

// index returns the index of the first policy matching id, or -1: the
// first policy holding a literal equal to id, unless a wildcard glob or a
// regex of an earlier policy matches.
func (ps *Policies) index(id string) int {
	end := len(ps.list)
	if len(ps.literals) > 0 {
		var buf [256]byte // the detector's id limit: no allocation
		if i, ok := ps.literals[string(appendFoldKey(buf[:0], id))]; ok {
			end = i
		}
	}
	for i := range ps.list[:end] {
		if ps.list[i].matchesWild(id) {
			return i
		}
	}
	if end < len(ps.list) {
		return end
	}
	return -1
}

// matchesWild reports whether c's regex, or one of its globs with a
// wildcard, matches id (see globMatch); its literals are Policies.literals'.
func (c *compiled) matchesWild(id string) bool {
	if c.Regex != "" {
		return c.re.MatchString(id)
	}
	for _, g := range c.wild {
		if globMatch(g, id) {
			return true
		}
	}
	return false
}

// shadowIndex holds what NewPolicies has accepted so far, to find an
// earlier policy that hides the next one (see NewPolicies) without
// comparing the two pattern by pattern.
type shadowIndex struct {
	names    []string       // by policy index
	byName   map[string]int // name -> index
	regexes  map[string]int // regex -> first index
	globs    map[string]int // fold key of a glob -> first index holding it
	catchAll int            // first index with the glob "*"; -1: none
	wild     []indexedGlob  // wildcard globs, in policy order
	res      []indexedRegex // regex policies, in order
}

type indexedGlob struct {
	glob string
	i    int
}

type indexedRegex struct {
	re *regexp.Regexp
	i  int
}

func newShadowIndex() *shadowIndex {
	return &shadowIndex{byName: map[string]int{}, regexes: map[string]int{}, globs: map[string]int{}, catchAll: -1}
}

// check returns the problem with the earliest earlier policy that hides p
// or repeats its pattern, nil if none: for one earlier policy the name
// first, then its regex, a catch-all, then p's globs in order (a glob it
// holds, then a literal its patterns match).
func (x *shadowIndex) check(p Policy) error {
	best := -1
	var err error
	consider := func(i int, ok bool, e func() error) {
		if ok && (best < 0 || i < best) {
			best, err = i, e()
		}
	}
	i, ok := x.byName[p.Name]
	consider(i, ok, func() error { return fmt.Errorf("name already used") })
	if p.Regex != "" {
		i, ok := x.regexes[p.Regex]
		consider(i, ok, func() error { return fmt.Errorf("regex already in policy %q", x.names[i]) })
	}
	consider(x.catchAll, x.catchAll >= 0, func() error {
		return fmt.Errorf("unreachable: policy %q before it matches every series (first match wins)", x.names[x.catchAll])
	})
	for _, g := range p.Globs {
		i, ok := x.globs[foldKey(g)]
		consider(i, ok, func() error { return fmt.Errorf("glob %q already in policy %q", g, x.names[i]) })
		if isLiteral(g) {
			i, ok := x.firstMatch(g)
			consider(i, ok, func() error {
				return fmt.Errorf("glob %q is already matched by policy %q (first match wins)", g, x.names[i])
			})
		}
	}
	return err
}

// firstMatch returns the first policy whose wildcard globs or regex match
// the literal g (a literal an earlier policy holds is check's first case).
func (x *shadowIndex) firstMatch(g string) (int, bool) {
	best := -1
	for _, w := range x.wild {
		if globMatch(w.glob, g) {
			best = w.i
			break
		}
	}
	for _, r := range x.res {
		if best >= 0 && r.i >= best {
			break
		}
		if r.re.MatchString(g) {
			best = r.i
			break
		}
	}
	return best, best >= 0
}

// add records policy p, accepted at index i with regexp re.
func (x *shadowIndex) add(i int, p Policy, re *regexp.Regexp) {
	x.names = append(x.names, p.Name)
	if _, ok := x.byName[p.Name]; !ok {
		x.byName[p.Name] = i
	}
	if p.Regex != "" {
		if _, ok := x.regexes[p.Regex]; !ok {
			x.regexes[p.Regex] = i
		}
		x.res = append(x.res, indexedRegex{re, i})
	}
	for _, g := range p.Globs {
		if _, ok := x.globs[foldKey(g)]; !ok {
			x.globs[foldKey(g)] = i
		}
		if g == "*" && x.catchAll < 0 {
			x.catchAll = i
		}
		if !isLiteral(g) {
			x.wild = append(x.wild, indexedGlob{g, i})
		}
	}
}
