package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/astraguard/astraguard/breaker"
	configfile "github.com/astraguard/astraguard/config"
)

// notFileKeys are flags that have no key in the configuration file: the
// file's own flags, and the model breaker's flags, whose file form is the
// breakers.model section.
var notFileKeys = map[string]bool{
	"config": true, "check-config": true, "version": true,
	"breaker-preset": true, "failure-threshold": true, "recovery-timeout": true, "success-threshold": true,
}

// breakerNames are the breakers the file may configure.
var breakerNames = []string{modelBreaker}

func fileKey(flagName string) string { return strings.ReplaceAll(flagName, "-", "_") }

// fileSchema derives the file's keys from the flags, so adding a flag adds
// its key.
func fileSchema(fs *flag.FlagSet) configfile.Schema {
	s := configfile.Schema{Keys: map[string]bool{}, Breakers: breakerNames}
	fs.VisitAll(func(f *flag.Flag) {
		if !notFileKeys[f.Name] {
			_, repeatable := f.Value.(*identityList)
			s.Keys[fileKey(f.Name)] = repeatable
		}
	})
	return s
}

// applyFile loads the file and sets every flag that neither the command
// line nor the environment set (explicit), so the order is flag, then
// environment, then file, then default. A value the flag rejects, or a
// negative number (no flag takes one), is an error naming key and line.
func applyFile(fs *flag.FlagSet, path string, explicit map[string]bool) (*configfile.Config, error) {
	fc, err := configfile.Load(path, fileSchema(fs))
	if err != nil {
		return nil, err
	}
	byKey := map[string]*flag.Flag{}
	fs.VisitAll(func(f *flag.Flag) { byKey[fileKey(f.Name)] = f })
	for _, v := range fc.Values() {
		f := byKey[v.Key]
		if explicit[f.Name] {
			continue
		}
		if err := f.Value.Set(v.Text); err != nil {
			return nil, &configfile.Error{File: path, Line: v.Line, Key: v.Key, Err: fmt.Errorf("want a %s", kindOf(f))}
		}
		if negative(f.Value) {
			return nil, &configfile.Error{File: path, Line: v.Line, Key: v.Key, Err: fmt.Errorf("must not be negative")}
		}
	}
	return fc, nil
}

// kindOf names a flag's value type for errors (the value itself is not
// echoed: it could be a secret typed into the wrong key).
func kindOf(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "valid value"
	}
	switch g.Get().(type) {
	case time.Duration:
		return `duration such as "1m30s"`
	case int, int64, uint, uint64:
		return "whole number"
	case float64:
		return "number"
	case bool:
		return "true or false"
	}
	return "valid value"
}

func negative(v flag.Value) bool {
	g, ok := v.(flag.Getter)
	if !ok {
		return false
	}
	switch x := g.Get().(type) {
	case time.Duration:
		return x < 0
	case int:
		return x < 0
	case int64:
		return x < 0
	case float64:
		return x < 0
	}
	return false
}

// modelBreakerSettings merges the model breaker's settings: the preset
// (flag, environment, file, "balanced"), the file's fields over it, then
// the --failure-threshold, --recovery-timeout and --success-threshold
// flags (or their environment variables) over those.
func breakerSettings(cfg config) (breaker.Settings, error) {
	fb := fileBreaker(cfg, modelBreaker)
	preset := cfg.breakerPreset
	if !cfg.explicit["breaker-preset"] && fb.Preset != "" {
		preset = fb.Preset
	}
	s, err := breaker.Preset(strings.ToLower(preset))
	if err != nil {
		return s, fmt.Errorf("--breaker-preset: %w", err)
	}
	s = overlay(s, fb)
	if cfg.failureThreshold > 0 {
		s.FailureThreshold = cfg.failureThreshold
	}
	if cfg.recoveryTimeout > 0 {
		s.RecoveryTimeout = cfg.recoveryTimeout
	}
	if cfg.successThreshold > 0 {
		s.SuccessThreshold = cfg.successThreshold
	}
	if _, err := breaker.New(modelBreaker, s); err != nil { // the file cannot name every cross-field rule
		if fb.Line > 0 {
			return s, &configfile.Error{File: cfg.file.Path(), Line: fb.Line, Key: "breakers." + modelBreaker, Err: err}
		}
		return s, err
	}
	return s, nil
}

func fileBreaker(cfg config, name string) configfile.Breaker {
	if cfg.file == nil {
		return configfile.Breaker{}
	}
	b, _ := cfg.file.Breaker(name)
	return b
}

// overlay sets the file's non-zero fields over s (zero keeps the preset's
// or the breaker's default).
func overlay(s breaker.Settings, b configfile.Breaker) breaker.Settings {
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
