package config

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/astraguard/astraguard/breaker"
)

// Breaker is one breaker's section of the file: a preset and the
// breaker's own Settings, decoded straight into them by their yaml tags
// (the breaker package states each default and bound and validates them;
// this package names the key and line). An absent field keeps the
// preset's value, or the breaker package's default; a field tagged
// nonzero may not be written 0. Durations are Go durations ("10s",
// "1m30s").
type Breaker struct {
	// Preset is strict, balanced or lenient (as --breaker-preset); the
	// settings override it.
	Preset           string `yaml:"preset"`
	breaker.Settings `yaml:",inline"`
	// Line is where the breaker's name is written.
	Line int `yaml:"-"`
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
		b := Breaker{Line: line(kv.Key)}
		if errs2 := decodeStruct(file, key, kv.Value, reflect.ValueOf(&b).Elem()); len(errs2) > 0 {
			errs = append(errs, errs2...)
			continue
		}
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

// Over returns s with the file's non-zero settings over it (a zero one
// keeps s's value, the preset's or the breaker package's default). Preset
// is not applied: the caller picks the base.
func (b Breaker) Over(s breaker.Settings) breaker.Settings {
	dst, src := reflect.ValueOf(&s).Elem(), reflect.ValueOf(b.Settings)
	for i := range src.NumField() {
		if f := src.Field(i); !f.IsZero() {
			dst.Field(i).Set(f)
		}
	}
	return s
}

// BreakerErrors maps err, from breaker.Settings.Validate of the settings
// built from breaker name's section, to one *Error per problem, each with
// the file key and its line (the section's line for a key the file does not
// set); other errors are returned as they are.
func (c *Config) BreakerErrors(name string, err error) []error {
	return breakerNamer.errors(c.path, "breakers."+name, c.breakerNodes[name], c.breakers[name].Line, err)
}
