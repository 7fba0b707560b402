package detector

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/model"
)

// Policy overrides how the series whose id matches are judged. It is
// applied to every scored verdict, whichever path (model or heuristic)
// scored it. The yaml tags are the keys of a policy in AstraGuard's
// configuration file, which decodes straight into Policy (limits and ranges
// written {min, max}, Off as mechanisms: {name: off}).
type Policy struct {
	// Name is reported in each verdict the policy judged.
	Name string `yaml:"name"`
	// Globs match series ids case-insensitively: '*' is any run of
	// characters ('/' and '.' included), '?' one character. Regex is
	// matched as written (unanchored; add ^ $ and (?i) as needed). A
	// policy has globs or a regex.
	Globs []string `yaml:"match"`
	Regex string   `yaml:"regex"`
	// Limit is the operating limit: a value outside it is a limit
	// violation and an anomaly with score 1, whatever the model says.
	Limit heuristic.Limit `yaml:"limits"`
	// Range is the expected data range: a value outside it is an anomaly
	// with score 1 (not a limit violation).
	Range heuristic.Limit `yaml:"expected_range"`
	// Threshold in (0, 1], when set, decides the anomaly flag from the
	// verdict's score (score >= Threshold) instead of the scorer's own
	// decision. 0 keeps the scorer's decision. The in-process scorers
	// (the embedded model, the heuristic) flag at it themselves, so
	// their quiet period after a flag is armed at it too; a remote
	// model's verdicts are re-decided after the fact.
	Threshold float64 `yaml:"threshold"`
	// Sensitivity in [MinSensitivity, MaxSensitivity] multiplies the
	// expected false-alarm rate of the calibrated scores by this factor,
	// by moving the threshold (the policy's, else the scorer's) on the
	// log-tail scale (see docs/model.md). 0 means 1 (the file may not
	// write 0: leaving the key out means 1). A remote model's threshold
	// is unknown, so there it moves only the policy's Threshold, if set.
	Sensitivity float64 `yaml:"sensitivity,nonzero"`
	// Direction keeps only anomalies on one side of the expected value:
	// DirectionUp (above), DirectionDown (below); DirectionBoth, the zero
	// value, keeps both. Like the minimum deviations it never clears a
	// limit violation, a range violation or a value beyond ±1e30.
	Direction Direction `yaml:"direction"`
	// MinDeviation and MinRelativeDeviation (a fraction of |expected|)
	// clear the anomaly flag of a value closer to the expected value than
	// either: a statistically clear but practically irrelevant move.
	MinDeviation         float64 `yaml:"min_deviation"`
	MinRelativeDeviation float64 `yaml:"min_relative_deviation"`
	// Off lists mechanisms this policy turns off. The embedded model
	// leaves them out of its score, flag and quiet period (another
	// mechanism that fired still flags the sample); a remote model's or
	// the heuristic's verdict a listed mechanism scored gets score 0, no
	// anomaly and MechanismNone after the fact (its band stays). Only the
	// model's own detectors may be listed (Switchable); limits and ranges
	// are the policy's own.
	Off []Mechanism `yaml:"mechanisms"`

	// Set by NewPolicies: the embedded model's feature bits of Off, and
	// Threshold moved by Sensitivity (0 without a Threshold).
	offBits uint8
	scaled  float64
	// Set by Policies.bind for one detector's scorers: the heuristic's
	// flag level (0: its default) and the embedded model's judgement,
	// Sensitivity folded into both.
	heurFlag  float64
	judgement model.Judge
}

// Validate reports every problem of p's own fields at once, each a
// *FieldError naming the Go field, joined; nil when valid. Overlaps with
// other policies are NewPolicies' to find.
func (p Policy) Validate() error {
	var errs []error
	bad := func(cond bool, field, format string, args ...any) {
		if cond {
			errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf(format, args...)})
		}
	}
	bad(p.Name == "", "Name", "required")
	bad(len(p.Name) > MaxPolicyNameBytes, "Name", "longer than %d bytes (every verdict carries it)", MaxPolicyNameBytes)
	bad(!utf8.ValidString(p.Name), "Name", "not UTF-8")
	bad((len(p.Globs) > 0) == (p.Regex != ""), "Globs", "give globs or a regex, one of them")
	bad(slices.Contains(p.Globs, ""), "Globs", "empty glob")
	if len(p.Regex) > MaxPolicyRegexBytes {
		bad(true, "Regex", "%d bytes, longer than %d (compiling it would cost the load time and memory of a program that size)", len(p.Regex), MaxPolicyRegexBytes)
	} else if _, err := regexp.Compile(p.Regex); err != nil {
		bad(true, "Regex", "invalid regular expression: %v", err)
	}
	bad(!(p.Threshold >= 0 && p.Threshold <= 1), "Threshold", "%v outside (0, 1] (0 keeps the scorer's decision)", p.Threshold)
	bad(p.Sensitivity != 0 && !(p.Sensitivity >= MinSensitivity && p.Sensitivity <= MaxSensitivity), "Sensitivity",
		"%v outside [%v, %v]: a factor on the expected false alarms (1: the default, 10: ten times as many)", p.Sensitivity, MinSensitivity, MaxSensitivity)
	for _, l := range []struct {
		field string
		l     heuristic.Limit
	}{{"Limit", p.Limit}, {"Range", p.Range}} {
		if err := l.l.Check(); err != nil {
			errs = append(errs, &FieldError{Field: l.field, Err: err})
		}
	}
	bad(p.Direction > DirectionDown, "Direction", "%d unknown: want up, down or both", p.Direction)
	bad(!(p.MinDeviation >= 0) || math.IsInf(p.MinDeviation, 0), "MinDeviation", "%v: want a finite value, 0 or more", p.MinDeviation)
	bad(!(p.MinRelativeDeviation >= 0) || math.IsInf(p.MinRelativeDeviation, 0), "MinRelativeDeviation", "%v: want a finite fraction, 0 or more", p.MinRelativeDeviation)
	for _, m := range p.Off {
		bad(!Switchable(m), "Off", "mechanism %v cannot be turned off (want one of %s)", m, strings.Join(SwitchableNames(), ", "))
	}
	return errors.Join(errs...)
}

// Direction says which side of the expected value may be anomalous.
type Direction uint8

// Directions.
const (
	DirectionBoth Direction = iota
	DirectionUp
	DirectionDown
)

// ParseDirection maps "both", "up" or "down" ("" is both) to a Direction.
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "", "both":
		return DirectionBoth, nil
	case "up":
		return DirectionUp, nil
	case "down":
		return DirectionDown, nil
	}
	return 0, fmt.Errorf("direction %q: want up, down or both", s)
}

// UnmarshalText is ParseDirection for decoders; its error does not echo
// the text.
func (d *Direction) UnmarshalText(text []byte) error {
	v, err := ParseDirection(string(text))
	if err != nil {
		return errors.New("want up, down or both")
	}
	*d = v
	return nil
}

// relevant reports whether a deviation dev from expected passes the
// direction and the minimum deviations.
func (p *Policy) relevant(dev, expected float64) bool {
	switch {
	case p.Direction == DirectionUp && dev <= 0, p.Direction == DirectionDown && dev >= 0:
		return false
	}
	d := math.Abs(dev)
	return d >= p.MinDeviation && d >= p.MinRelativeDeviation*math.Abs(expected)
}

// Policies is an ordered list of policies; the first whose pattern
// matches a series id applies. Immutable once built, so one value may be
// shared by every goroutine; Detector.SetPolicies swaps it atomically.
type Policies struct {
	list []compiled
	// literals maps the fold key of each literal glob to the first policy
	// holding it (see index).
	literals map[string]int
	// gen numbers this value among those NewPolicies built (from 1), so
	// that a series can remember its match (policyCache); 0 remembers
	// nothing.
	gen uint64
}

// policiesBuilt numbers the Policies values NewPolicies builds.
var policiesBuilt atomic.Uint64

// policyCache remembers a series' match in one Policies value: the index
// of its policy there (-1 for none) in the value numbered gen (0: none
// remembered).
type policyCache struct {
	gen uint64
	idx int32
}

type compiled struct {
	Policy
	re   *regexp.Regexp // the Regex compiled; nil for globs
	wild []string       // the globs with a wildcard; literals are Policies.literals'
}

// MaxPolicyNameBytes bounds a policy name: every verdict of a matching
// series carries it, so the server's response-size bound counts it.
const MaxPolicyNameBytes = 64

// MaxPolicyRegexBytes bounds a policy's regular expression, checked
// before it is compiled: a regexp's compile time and memory grow with its
// length (a 1.2 MB one took 7.8 s and 379 MB), and the policies load at
// every start and reload. Globs are not compiled (globMatch and the
// literal index match them), so thousands of them cost no compile.
const MaxPolicyRegexBytes = 16 << 10

// ErrInvalidPolicy is wrapped by every PolicyError.
var ErrInvalidPolicy = errors.New("invalid policy")

// PolicyError says which policy (by index) NewPolicies refused and why.
type PolicyError struct {
	Index int
	Name  string
	Err   error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("%v %d (%q): %v", ErrInvalidPolicy, e.Index, e.Name, e.Err)
}

func (e *PolicyError) Unwrap() []error { return []error{ErrInvalidPolicy, e.Err} }

// NewPolicies compiles ps in order. Besides invalid fields it refuses
// overlaps that first-match-wins would hide: a pattern given twice, a
// policy after a catch-all glob "*", and a literal glob (no '*' or '?')
// that an earlier policy already matches. Errors are *PolicyError.
func NewPolicies(ps []Policy) (*Policies, error) {
	out := &Policies{gen: policiesBuilt.Add(1), literals: map[string]int{}}
	seen := newShadowIndex()
	for i, p := range ps {
		re, err := p.compile()
		if err == nil {
			err = seen.check(p)
		}
		if err != nil {
			return nil, &PolicyError{Index: i, Name: p.Name, Err: err}
		}
		seen.add(i, p, re)
		p.offBits, p.scaled = p.resolve()
		c := compiled{Policy: p, re: re}
		for _, g := range p.Globs {
			if !isLiteral(g) {
				c.wild = append(c.wild, g)
			} else if _, ok := out.literals[foldKey(g)]; !ok {
				out.literals[foldKey(g)] = i
			}
		}
		out.list = append(out.list, c)
	}
	return out, nil
}

// compile validates p and compiles its regex; a glob policy has none
// (globMatch and the literal index match its globs).
func (p Policy) compile() (*regexp.Regexp, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Regex == "" {
		return nil, nil
	}
	return regexp.Compile(p.Regex)
}

// GlobRegexp turns a glob into the regular expression (without anchors or
// flags) it stands for: '*' any run, '?' one character, the rest literal.
func GlobRegexp(glob string) string {
	var b strings.Builder
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// Match returns the first policy matching id, or nil.
func (ps *Policies) Match(id string) *Policy {
	if ps == nil {
		return nil
	}
	if i := ps.index(id); i >= 0 {
		return &ps.list[i].Policy
	}
	return nil
}

// matchCached is Match for the series id whose cache c is: it matches once
// per series and Policies value and then answers from c, since matching
// every group of every request cost more than the rest of a group's
// bookkeeping.
func (ps *Policies) matchCached(id string, c *policyCache) *Policy {
	if ps == nil {
		return nil
	}
	if ps.gen == 0 || c.gen != ps.gen {
		c.gen, c.idx = ps.gen, int32(ps.index(id))
	}
	if c.idx < 0 {
		return nil
	}
	return &ps.list[c.idx].Policy
}

// DefaultPolicies are the shipped default: the seed's operating limits
// (voltage outside [7, 9], temperature above 40, |gyro| above 0.1) by
// channel, the id's last '/'- or '.'-separated part, case-insensitively.
func DefaultPolicies() []Policy {
	channel := func(c string) []string { return []string{c, "*/" + c, "*." + c} }
	pre := heuristic.PresetLimits()
	return []Policy{
		{Name: "voltage", Globs: channel("voltage"), Limit: pre["voltage"]},
		{Name: "temperature", Globs: channel("temperature"), Limit: pre["temperature"]},
		{Name: "gyro", Globs: channel("gyro"), Limit: pre["gyro"]},
	}
}

// SetPolicies makes ps judge every verdict from the next Score call on
// (nil: none). Safe to call while scoring: a batch sees one value.
func (d *Detector) SetPolicies(ps *Policies) { d.policy.Store(ps.bind(d.heur.Flag(), d.resolveJudge)) }

// Switchable reports whether a policy may turn m off: the model's own
// detectors, not none, limit or other.
func Switchable(m Mechanism) bool {
	switch m {
	case MechanismShift, MechanismSeason, MechanismNovelty, MechanismStuck, MechanismRecord, MechanismContext, MechanismState:
		return true
	}
	return false
}

// SwitchableNames are the names of the Switchable mechanisms, in their
// order.
func SwitchableNames() []string {
	var names []string
	for m := range numMechanisms {
		if Switchable(m) {
			names = append(names, m.String())
		}
	}
	return names
}
