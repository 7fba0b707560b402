package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/astraguard/astraguard/breaker"
)

// Breaker is one breaker's settings as written in the file, field for
// field the breaker package's Settings (see there for each default and
// bound: the breaker package validates them, this package names the key
// and line). A zero or absent field keeps the default of Preset, or of the
// breaker package when Preset is empty. Durations are Go durations ("10s",
// "1m30s").
type Breaker struct {
	// Preset is strict, balanced or lenient (as --breaker-preset); the
	// fields below override it.
	Preset           string        `yaml:"preset"`
	FailureThreshold int           `yaml:"failure_threshold"` // -1 disables the rule
	RecoveryTimeout  time.Duration `yaml:"recovery_timeout"`
	SuccessThreshold int           `yaml:"success_threshold"`
	MaxProbes        int           `yaml:"max_probes"`
	ProbeTimeout     time.Duration `yaml:"probe_timeout"`
	CountWindow      CountWindow   `yaml:"count_window"`
	TimeWindow       TimeWindow    `yaml:"time_window"`
	SlowCall         SlowCall      `yaml:"slow_call"`
	Backoff          Backoff       `yaml:"backoff"`
	// Line is where the breaker's name is written.
	Line int `yaml:"-"`
}

// CountWindow is a failure-ratio rule over the last Size calls.
type CountWindow struct {
	Size         int     `yaml:"size"`
	MinCalls     int     `yaml:"min_calls"`
	FailureRatio float64 `yaml:"failure_ratio"`
}

// TimeWindow is a failure-ratio rule over a sliding time window.
type TimeWindow struct {
	Length       time.Duration `yaml:"length"`
	Buckets      int           `yaml:"buckets"`
	MinCalls     int           `yaml:"min_calls"`
	FailureRatio float64       `yaml:"failure_ratio"`
}

// SlowCall trips on the ratio of calls slower than Duration.
type SlowCall struct {
	Duration time.Duration `yaml:"duration"`
	Ratio    float64       `yaml:"ratio"`
}

// Backoff grows the recovery wait on repeated trips.
type Backoff struct {
	Multiplier float64       `yaml:"multiplier"`
	Max        time.Duration `yaml:"max"`
	Jitter     float64       `yaml:"jitter"`
}

func (c *Config) decodeBreakers(file string, n ast.Node, names []string) []error {
	if _, null := n.(*ast.NullNode); null {
		return nil
	}
	m, ok := mapping(n)
	if !ok {
		return []error{&Error{File: file, Line: line(n), Key: "breakers", Err: errors.New("want a mapping of breaker names to settings")}}
	}
	var errs []error
	for _, kv := range m.Values {
		name := kv.Key.String()
		key := "breakers." + name
		if !slices.Contains(names, name) {
			errs = append(errs, &Error{File: file, Line: line(kv.Key), Key: key,
				Err: fmt.Errorf("unknown breaker (known: %s)", strings.Join(names, ", "))})
			continue
		}
		if errs2 := badDurations(file, key, kv.Value); len(errs2) > 0 {
			errs = append(errs, errs2...)
			continue
		}
		if errs2 := unknownFields(file, key, kv.Value, reflect.TypeFor[Breaker]()); len(errs2) > 0 {
			errs = append(errs, errs2...)
			continue
		}
		var b Breaker
		if _, null := kv.Value.(*ast.NullNode); !null {
			if err := yaml.NodeToValue(kv.Value, &b, yaml.Strict()); err != nil {
				e := yamlError(file, err).(*Error)
				e.Key = key
				errs = append(errs, e)
				continue
			}
		}
		b.Line = line(kv.Key)
		c.breakers[name] = b
		c.breakerNodes[name] = kv.Value
		// The breaker package validates its own settings: the file's
		// fields over their preset, as the service will run them (flags
		// may still change the preset; the caller validates that merge).
		base, err := breaker.Preset(cmp.Or(b.Preset, breaker.PresetBalanced))
		if err != nil {
			errs = append(errs, &Error{File: file, Line: keyLine(kv.Value, "preset", b.Line), Key: key + ".preset",
				Err: fmt.Errorf("want one of %s, %s, %s", breaker.PresetStrict, breaker.PresetBalanced, breaker.PresetLenient)})
			continue
		}
		errs = append(errs, c.BreakerErrors(name, b.Over(base).Validate())...)
	}
	return errs
}

// Over returns s with the file's non-zero fields set over it (zero keeps
// s's value, the preset's or the breaker package's default). Preset is not
// applied: the caller picks the base.
func (b Breaker) Over(s breaker.Settings) breaker.Settings {
	set := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	setD := func(dst *time.Duration, v time.Duration) {
		if v != 0 {
			*dst = v
		}
	}
	set(&s.FailureThreshold, b.FailureThreshold)
	setD(&s.RecoveryTimeout, b.RecoveryTimeout)
	set(&s.SuccessThreshold, b.SuccessThreshold)
	set(&s.MaxProbes, b.MaxProbes)
	setD(&s.ProbeTimeout, b.ProbeTimeout)
	s.CountWindow = breaker.CountWindow(b.CountWindow)
	s.TimeWindow = breaker.TimeWindow(b.TimeWindow)
	s.SlowCall = breaker.SlowCall(b.SlowCall)
	s.Backoff = breaker.Backoff(b.Backoff)
	return s
}

// BreakerErrors maps err, from breaker.Settings.Validate of the settings
// built from breaker name's section, to one *Error per problem, each with
// the file key and its line (the section's line for a key the file does not
// set); other errors are returned as they are.
func (c *Config) BreakerErrors(name string, err error) []error {
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	b, node := c.breakers[name], c.breakerNodes[name]
	out := make([]error, 0, len(list))
	for _, e := range list {
		var fe *breaker.FieldError
		if !errors.As(e, &fe) {
			out = append(out, e)
			continue
		}
		key := fieldKeys[fe.Field]
		ln := b.Line
		if node != nil && key != "" {
			ln = keyLine(node, key, b.Line)
		}
		out = append(out, &Error{File: c.path, Line: ln, Key: "breakers." + name + "." + cmp.Or(key, fe.Field),
			Err: errors.New(fieldNames.Replace(fe.Err.Error()))})
	}
	return out
}

// fieldKeys maps breaker.Settings field paths ("CountWindow.Size") to the
// file's keys ("count_window.size"), derived from Breaker's yaml tags (its
// fields are named as Settings'), and fieldNames rewrites field paths in
// the breaker's messages into keys.
var fieldKeys, fieldNames = func() (map[string]string, *strings.Replacer) {
	keys := map[string]string{}
	var walk func(t reflect.Type, goPrefix, keyPrefix string)
	walk = func(t reflect.Type, goPrefix, keyPrefix string) {
		for f := range t.Fields() {
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" || tag == "preset" {
				continue
			}
			goPath, keyPath := goPrefix+f.Name, keyPrefix+tag
			if f.Type.Kind() == reflect.Struct {
				keys[goPath] = keyPath
				walk(f.Type, goPath+".", keyPath+".")
				continue
			}
			keys[goPath] = keyPath
		}
	}
	walk(reflect.TypeFor[Breaker](), "", "")
	goNames := slices.Collect(maps.Keys(keys))
	// Longest first, so CountWindow.Size is replaced before CountWindow.
	slices.SortFunc(goNames, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	var pairs []string
	for _, g := range goNames {
		pairs = append(pairs, g, keys[g])
	}
	return keys, strings.NewReplacer(pairs...)
}()

// durationKeys are Breaker's duration fields, checked before decoding so
// a bad one is reported with its line (the decoder gives none).
var durationKeys = []string{"recovery_timeout", "probe_timeout", "time_window.length", "slow_call.duration", "backoff.max"}

func badDurations(file, key string, n ast.Node) []error {
	var errs []error
	for _, k := range durationKeys {
		v, ln := keyNode(n, k)
		if v == nil {
			continue
		}
		text := fmt.Sprint(v.(ast.ScalarNode).GetValue())
		if _, err := time.ParseDuration(text); err != nil && text != "0" {
			errs = append(errs, &Error{File: file, Line: ln, Key: key + "." + k, Err: errors.New(`want a duration such as "1m30s"`)})
		}
	}
	return errs
}

// keyNode returns the scalar value of a dotted key under n and its line,
// or nil.
func keyNode(n ast.Node, dotted string) (ast.Node, int) {
	ln := 0
	for part := range strings.SplitSeq(dotted, ".") {
		m, ok := mapping(n)
		if !ok {
			return nil, 0
		}
		var next ast.Node
		for _, kv := range m.Values {
			if kv.Key.String() == part {
				next, ln = kv.Value, line(kv.Key)
			}
		}
		if next == nil {
			return nil, 0
		}
		n = next
	}
	if _, ok := n.(ast.ScalarNode); !ok {
		return nil, 0
	}
	if _, null := n.(*ast.NullNode); null {
		return nil, 0
	}
	return n, ln
}

// keyLine finds the line of a dotted key under n, or def.
func keyLine(n ast.Node, dotted string, def int) int {
	for part := range strings.SplitSeq(dotted, ".") {
		m, ok := mapping(n)
		if !ok {
			return def
		}
		found := false
		for _, kv := range m.Values {
			if kv.Key.String() == part {
				def, n, found = line(kv.Key), kv.Value, true
				break
			}
		}
		if !found {
			return def
		}
	}
	return def
}

// unknownFields reports every key of the mapping n (and of its nested
// mappings) that the struct type t has no yaml field for, each with the
// nearest known key, so a misspelt key is named with its line and a
// suggestion (the strict decoder names only the first, without one).
func unknownFields(file, prefix string, n ast.Node, t reflect.Type) []error {
	m, ok := mapping(n)
	if !ok {
		return nil
	}
	fields := map[string]reflect.Type{}
	known := map[string]bool{}
	for f := range t.Fields() {
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		fields[tag], known[tag] = ft, false
	}
	var errs []error
	for _, kv := range m.Values {
		k := kv.Key.String()
		ft, ok := fields[k]
		switch {
		case !ok:
			errs = append(errs, &Error{File: file, Line: line(kv.Key), Key: prefix + "." + k, Err: errors.New("unknown key" + suggest(k, known))})
		case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]():
			errs = append(errs, unknownFields(file, prefix+"."+k, kv.Value, ft)...)
		}
	}
	return errs
}
