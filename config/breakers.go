package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Breaker is one breaker's settings as written in the file, field for
// field the breaker package's Settings (see there for each default). A zero
// or absent field keeps the default of Preset, or of the breaker package
// when Preset is empty. Durations are Go durations ("10s", "1m30s").
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

// Presets are the preset names a breaker may name.
var Presets = []string{"strict", "balanced", "lenient"}

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
		for _, p := range b.problems() {
			errs = append(errs, &Error{File: file, Line: keyLine(kv.Value, p.key, b.Line), Key: key + "." + p.key, Err: errors.New(p.msg)})
		}
		c.breakers[name] = b
	}
	return errs
}

type problem struct{ key, msg string }

// problems lists every out-of-range field, so a user fixes them in one go.
// Zero means "default" everywhere, as in the breaker package.
func (b Breaker) problems() []problem {
	var ps []problem
	add := func(bad bool, key, msg string) {
		if bad {
			ps = append(ps, problem{key, msg})
		}
	}
	add(b.Preset != "" && !slices.Contains(Presets, b.Preset), "preset", "want one of "+strings.Join(Presets, ", "))
	add(b.FailureThreshold < -1 || b.FailureThreshold > 1<<20, "failure_threshold", "want -1 (rule off) or 0 to 1048576")
	add(b.SuccessThreshold < 0, "success_threshold", "must not be negative")
	add(b.MaxProbes < 0 || b.MaxProbes > 255, "max_probes", "want 0 to 255")
	for key, d := range map[string]time.Duration{"recovery_timeout": b.RecoveryTimeout, "probe_timeout": b.ProbeTimeout,
		"time_window.length": b.TimeWindow.Length, "slow_call.duration": b.SlowCall.Duration, "backoff.max": b.Backoff.Max} {
		add(d < 0, key, "negative duration")
	}
	cw, tw := b.CountWindow, b.TimeWindow
	add(cw.Size < 0, "count_window.size", "must not be negative")
	add(cw.MinCalls < 0 || cw.MinCalls > max(cw.Size, 0), "count_window.min_calls", "want 0 to count_window.size")
	add(!ratioOK(cw.FailureRatio), "count_window.failure_ratio", "want a ratio in (0, 1] (0 keeps the default 0.5)")
	add(tw.Buckets < 0, "time_window.buckets", "must not be negative")
	add(tw.MinCalls < 0, "time_window.min_calls", "must not be negative")
	add(!ratioOK(tw.FailureRatio), "time_window.failure_ratio", "want a ratio in (0, 1] (0 keeps the default 0.5)")
	add(tw.Length > 0 && tw.Length < time.Duration(max(tw.Buckets, 10)), "time_window.length", "shorter than one nanosecond per bucket")
	add(!ratioOK(b.SlowCall.Ratio), "slow_call.ratio", "want a ratio in (0, 1] (0 keeps the default 1)")
	add(b.SlowCall.Duration > 0 && cw.Size == 0 && tw.Length == 0, "slow_call.duration", "needs count_window or time_window")
	add(b.Backoff.Multiplier != 0 && (b.Backoff.Multiplier < 1 || math.IsNaN(b.Backoff.Multiplier)), "backoff.multiplier", "want at least 1")
	add(b.Backoff.Jitter < 0 || b.Backoff.Jitter >= 1 || math.IsNaN(b.Backoff.Jitter), "backoff.jitter", "want [0, 1)")
	add(b.FailureThreshold == -1 && cw.Size == 0 && tw.Length == 0, "failure_threshold", "-1 turns off the only trip rule: set count_window or time_window")
	slices.SortFunc(ps, func(a, b problem) int { return strings.Compare(a.key, b.key) })
	return ps
}

// ratioOK accepts 0 (the default) or a ratio in (0, 1].
func ratioOK(r float64) bool { return r >= 0 && r <= 1 && !math.IsNaN(r) }

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
