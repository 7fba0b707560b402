package main

import (
	"errors"
	"flag"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	configfile "github.com/astraguard/astraguard/internal/config"
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
// environment, then file, then default, recording in fromFile which flags
// it set. A value the flag rejects is a problem naming key and line,
// reported with the file's others. data, if not nil, is the file's content
// as already read (a reload reads the file once).
func applyFile(fs *flag.FlagSet, path string, data []byte, explicit map[string]bool, fromFile map[string]configfile.Value) (*configfile.Config, error) {
	byKey := map[string]*flag.Flag{}
	fs.VisitAll(func(f *flag.Flag) { byKey[fileKey(f.Name)] = f })
	schema := fileSchema(fs)
	schema.Check = func(v configfile.Value) error {
		f := byKey[v.Key]
		if explicit[f.Name] {
			return nil
		}
		fromFile[f.Name] = v
		if err := f.Value.Set(v.Text); err != nil {
			return fmt.Errorf("want a %s", kindOf(f))
		}
		return nil
	}
	if data == nil {
		return configfile.Load(path, schema)
	}
	return configfile.Parse(path, data, schema)
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

// negative reports a numeric flag (a duration too) set below zero.
func negative(v flag.Value) bool {
	g, ok := v.(flag.Getter)
	if !ok {
		return false
	}
	x := reflect.ValueOf(g.Get())
	return x.CanInt() && x.Int() < 0 || x.CanFloat() && x.Float() < 0
}

// breakerSettings merges the model breaker's settings: the preset
// (flag, environment, file, "balanced"), the file's fields over it, then
// the --failure-threshold, --recovery-timeout and --success-threshold
// flags (or their environment variables) over those. The breaker package
// validates the result, and fits its probe timeout to --model-timeout
// (ForCallTimeout), at a reload to the longer of it and the one in force;
// each problem names the flag or the file key and line it came from.
func breakerSettings(cfg config) (breaker.Settings, error) {
	fb, _ := cfg.file.Breaker(modelBreaker)
	preset := cfg.breakerPreset
	if !cfg.explicit["breaker-preset"] && fb.Preset != "" {
		preset = fb.Preset
	}
	s, err := breaker.Preset(strings.ToLower(preset))
	if err != nil {
		return s, fmt.Errorf("--breaker-preset: %w", err)
	}
	s = fb.Over(s)
	fromFlag := map[string]string{}
	if cfg.failureThreshold > 0 {
		s.FailureThreshold, fromFlag["FailureThreshold"] = cfg.failureThreshold, "failure-threshold"
	}
	if cfg.recoveryTimeout > 0 {
		s.RecoveryTimeout, fromFlag["RecoveryTimeout"] = cfg.recoveryTimeout, "recovery-timeout"
	}
	if cfg.successThreshold > 0 {
		s.SuccessThreshold, fromFlag["SuccessThreshold"] = cfg.successThreshold, "success-threshold"
	}
	// A probe is a model call, which runs up to --model-timeout: a shorter
	// probe timeout would count probes still running as failed. Refused,
	// not warned: a breaker whose probes cannot succeed never closes, and
	// a reload that refuses keeps the running settings.
	timeout, timeoutName := cfg.modelTimeout, "--model-timeout"
	if v, ok := cfg.fromFile["model-timeout"]; ok {
		timeoutName = v.Key
	}
	if cfg.runningModelTimeout > timeout {
		// A reload: the model timeout is not live, so until a restart the
		// probes run under the one in force.
		timeout, timeoutName = cfg.runningModelTimeout, "the model timeout in force"
	}
	var errs []error
	if err = s.Validate(); err != nil {
		errs = err.(interface{ Unwrap() []error }).Unwrap()
	} else if s, err = s.ForCallTimeout(timeoutName, timeout); err != nil {
		errs = []error{err}
	} else {
		return s, nil
	}
	var out []error
	for _, e := range errs {
		var fe *breaker.FieldError
		switch {
		case errors.As(e, &fe) && fromFlag[fe.Field] != "":
			out = append(out, cfg.flagError(fromFlag[fe.Field], fe.Err))
		case fb.Line > 0:
			out = append(out, cfg.file.BreakerErrors(modelBreaker, e)...)
		default:
			out = append(out, fmt.Errorf("breaker %s: %w", modelBreaker, e))
		}
	}
	return s, errors.Join(out...)
}

// policies returns the per-series policies: the file's list if it has a
// policies key (the config package decoded them into detector.Policy and
// had the detector check them), else detector.DefaultPolicies (the seed's
// limits).
func policies(cfg config) ([]detector.Policy, *detector.Policies, error) {
	list := detector.DefaultPolicies()
	if fp, ok := cfg.file.Policies(); ok {
		list = fp
	}
	ps, err := detector.NewPolicies(list)
	return list, ps, err
}
