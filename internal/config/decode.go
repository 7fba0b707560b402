package config

import (
	"cmp"
	"encoding"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/heuristic"
)

// A section of the file decodes straight into the component's own type
// (breaker.Settings, detector.Policy) by its fields' yaml tags, key by key,
// so each problem is named with its key and line; the component's Validate
// then judges the values, and fieldErrors names its problems the same way.

// field is one key of a struct type: its Go field path ("CountWindow.Size")
// and its file key ("count_window.size"). A field tagged ",nonzero" may
// not be written 0: there the zero value is Go's spelling of the default,
// which the file spells by leaving the key out.
type field struct {
	goPath, key string
	nonzero     bool
}

// fieldsOf lists the keys of struct type t in field order, nested structs
// flattened after their own key and inline fields without one. A
// heuristic.Limit is written {min, max}.
func fieldsOf(t reflect.Type, goPrefix, keyPrefix string) []field {
	var out []field
	for f := range t.Fields() {
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case opts == "inline":
			out = append(out, fieldsOf(f.Type, goPrefix, keyPrefix)...)
			continue
		case tag == "" || tag == "-":
			continue
		}
		goPath, key := goPrefix+f.Name, keyPrefix+tag
		out = append(out, field{goPath, key, opts == "nonzero"})
		switch {
		case f.Type == reflect.TypeFor[heuristic.Limit]():
			out = append(out, field{goPath: goPath, key: key + ".min"}, field{goPath: goPath, key: key + ".max"})
		case f.Type.Kind() == reflect.Struct:
			out = append(out, fieldsOf(f.Type, goPath+".", key+".")...)
		}
	}
	return out
}

// leafKeys are the keys of t that hold a value, in field order: what a
// user may write.
func leafKeys(t reflect.Type) []string {
	fs := fieldsOf(t, "", "")
	var keys []string
	for i, f := range fs {
		if i+1 == len(fs) || !strings.HasPrefix(fs[i+1].key, f.key+".") {
			keys = append(keys, f.key)
		}
	}
	return keys
}

// BreakerKeys are the keys of a breakers section entry, in field order.
func BreakerKeys() []string { return leafKeys(reflect.TypeFor[Breaker]()) }

// PolicyKeys are the keys of a policies entry, in field order.
func PolicyKeys() []string { return leafKeys(reflect.TypeFor[detector.Policy]()) }

// namer turns a component's Go field paths into file keys: key maps a
// path, and words, if set, rewrites the paths a message mentions ("needs
// CountWindow" to "needs count_window"; only for a component whose
// messages never echo a user's text, such as a regular expression).
type namer struct {
	key   map[string]string
	words *strings.Replacer
}

func newNamer(t reflect.Type, rewrite bool) namer {
	n := namer{key: map[string]string{}}
	for _, f := range fieldsOf(t, "", "") {
		if _, ok := n.key[f.goPath]; !ok {
			n.key[f.goPath] = f.key
		}
	}
	if !rewrite {
		return n
	}
	paths := slices.Collect(maps.Keys(n.key))
	// Longest first, so CountWindow.Size is replaced before CountWindow.
	slices.SortFunc(paths, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b)) })
	var pairs []string
	for _, p := range paths {
		pairs = append(pairs, p, n.key[p])
	}
	n.words = strings.NewReplacer(pairs...)
	return n
}

var (
	breakerNamer = newNamer(reflect.TypeFor[Breaker](), true)
	policyNamer  = newNamer(reflect.TypeFor[detector.Policy](), false)
)

// errors maps err, from a component's Validate (joined *breaker.FieldError
// or *detector.FieldError), to one *Error per problem, keyed under prefix
// at the key's line in section n (def for a key the file does not set).
// Other errors are returned as they are.
func (nm namer) errors(file, prefix string, n ast.Node, def int, err error) []error {
	if err == nil {
		return nil
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		var be *breaker.FieldError
		var de *detector.FieldError
		var path string
		switch {
		case errors.As(e, &be):
			path, e = be.Field, be.Err
		case errors.As(e, &de):
			path, e = de.Field, de.Err
		default:
			out = append(out, e)
			continue
		}
		key := cmp.Or(nm.key[path], path)
		if nm.words != nil {
			e = errors.New(nm.words.Replace(e.Error()))
		}
		out = append(out, &Error{File: file, Line: keyLine(n, key, def), Key: prefix + "." + key, Err: e})
	}
	return out
}

// decodeStruct fills the struct v from the mapping n by its fields' yaml
// tags (null leaves v as it is). An unknown key (with the nearest known
// one) and a value of the wrong type are each an *Error with the key and
// its line; every problem of n is reported.
func decodeStruct(file, prefix string, n ast.Node, v reflect.Value) []error {
	if _, null := n.(*ast.NullNode); null {
		return nil
	}
	m, ok := mapping(n)
	if !ok {
		return []error{&Error{File: file, Line: line(n), Key: prefix, Err: errors.New("want a mapping of keys to values")}}
	}
	byKey := map[string]field{}
	for _, f := range fieldsOf(v.Type(), "", "") {
		if !strings.Contains(f.key, ".") { // inline fields are promoted
			byKey[f.key] = f
		}
	}
	var errs []error
	for _, kv := range m.Values {
		k := kv.Key.String()
		f, ok := byKey[k]
		if !ok {
			errs = append(errs, &Error{File: file, Line: line(kv.Key), Key: prefix + "." + k, Err: errors.New("unknown key" + suggest(k, maps.Keys(byKey)))})
			continue
		}
		fv := v.FieldByName(f.goPath)
		errs2 := decodeValue(file, prefix+"."+k, kv, fv)
		if _, null := kv.Value.(*ast.NullNode); len(errs2) == 0 && f.nonzero && fv.IsZero() && !null {
			errs2 = []error{&Error{File: file, Line: line(kv.Key), Key: prefix + "." + k, Err: errors.New("must not be 0 (leave the key out for the default)")}}
		}
		errs = append(errs, errs2...)
	}
	return errs
}

// decodeValue decodes kv's value into f, named key.
func decodeValue(file, key string, kv *ast.MappingValueNode, f reflect.Value) []error {
	n := kv.Value
	bad := func(msg string) []error {
		return []error{&Error{File: file, Line: line(kv.Key), Key: key, Err: errors.New(msg)}}
	}
	if _, null := n.(*ast.NullNode); null {
		return nil
	}
	if f.Kind() == reflect.Pointer { // set only when given
		p := reflect.New(f.Type().Elem())
		errs := decodeValue(file, key, kv, p.Elem())
		if len(errs) == 0 {
			f.Set(p)
		}
		return errs
	}
	text, scalar := "", false
	if s, ok := n.(ast.ScalarNode); ok {
		text, scalar = fmt.Sprint(s.GetValue()), true
	}
	switch p := f.Addr().Interface().(type) {
	case *time.Duration:
		d, err := time.ParseDuration(text)
		if !scalar || err != nil {
			return bad(`want a duration such as "1m30s"`)
		}
		*p = d
		return nil
	case encoding.TextUnmarshaler:
		if !scalar {
			return bad("want a single value")
		}
		if err := p.UnmarshalText([]byte(text)); err != nil {
			return bad(err.Error())
		}
		return nil
	case *heuristic.Limit:
		return decodeBounds(file, key, kv, p)
	case *[]detector.Mechanism:
		return decodeMechanisms(file, key, kv, p)
	}
	if f.Kind() == reflect.Struct {
		return decodeStruct(file, key, n, f)
	}
	if msg := shapeProblem(n, f.Kind()); msg != "" {
		return bad(msg)
	}
	switch n.(type) {
	case *ast.IntegerNode:
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		if f.CanInt() || f.CanUint() {
			return bad("want a whole number") // the decoder would truncate it
		}
	default:
		// The YAML decoder reads some numbers (1e9) as text and converts
		// them; for anything else its words would name Go types.
		v, err := strconv.ParseFloat(text, 64)
		switch {
		case (f.CanInt() || f.CanUint()) && (err != nil || v != math.Trunc(v) || math.IsInf(v, 0)):
			return bad("want a whole number")
		case f.CanFloat() && err != nil:
			return bad("want a number")
		}
	}
	return decodeYAML(file, key, kv, f.Addr().Interface())
}

// shapeProblem says what is wrong when n is not the shape of a value of
// kind k (a list for a scalar, say), in the file's words rather than the
// decoder's, which name Go types; "" when the shape fits.
func shapeProblem(n ast.Node, k reflect.Kind) string {
	_, seq := n.(*ast.SequenceNode)
	_, mapping := mapping(n)
	switch {
	case k == reflect.Slice && !seq:
		return "want a list"
	case k == reflect.Map && !mapping:
		return "want a mapping such as {name: value}"
	case k != reflect.Slice && k != reflect.Map && (seq || mapping):
		return "want a single value"
	}
	return ""
}

// decodeYAML decodes kv's value into v with the YAML decoder, strictly.
func decodeYAML(file, key string, kv *ast.MappingValueNode, v any) []error {
	if err := yaml.NodeToValue(kv.Value, v, yaml.Strict()); err != nil {
		e := yamlError(file, err).(*Error)
		e.Key, e.Line = key, cmp.Or(e.Line, line(kv.Key))
		return []error{e}
	}
	return nil
}

// decodeBounds decodes {min: LOW, max: HIGH} (either side may be left out,
// not both) into a limit checked on the sides given.
func decodeBounds(file, key string, kv *ast.MappingValueNode, l *heuristic.Limit) []error {
	var b struct {
		Min *float64 `yaml:"min"`
		Max *float64 `yaml:"max"`
	}
	if errs := decodeStruct(file, key, kv.Value, reflect.ValueOf(&b).Elem()); len(errs) > 0 {
		return errs
	}
	if b.Min == nil && b.Max == nil {
		return []error{&Error{File: file, Line: line(kv.Key), Key: key, Err: errors.New("want min, max or both")}}
	}
	*l = heuristic.Limit{Low: math.Inf(-1), High: math.Inf(1)}
	if b.Min != nil {
		l.Low, l.CheckLow = *b.Min, true
	}
	if b.Max != nil {
		l.High, l.CheckHigh = *b.Max, true
	}
	return nil
}

// decodeMechanisms decodes a map of mechanism names to on or off into the
// list of those turned off, in the detector's order.
func decodeMechanisms(file, key string, kv *ast.MappingValueNode, off *[]detector.Mechanism) []error {
	var m map[string]string
	if msg := shapeProblem(kv.Value, reflect.Map); msg != "" {
		return []error{&Error{File: file, Line: line(kv.Key), Key: key, Err: errors.New(msg)}}
	}
	if errs := decodeYAML(file, key, kv, &m); len(errs) > 0 {
		return errs
	}
	names := detector.SwitchableNames()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(m)) {
		msg := ""
		switch state := m[name]; {
		case !slices.Contains(names, name):
			msg = fmt.Sprintf("unknown mechanism %q%s: want one of %v", name, suggest(name, slices.Values(names)), names)
		case state != "on" && state != "off":
			msg = fmt.Sprintf("mechanism %s: %q, want on or off", name, state)
		default:
			continue
		}
		errs = append(errs, &Error{File: file, Line: line(kv.Key), Key: key, Err: errors.New(msg)})
	}
	for _, name := range names {
		if m[name] == "off" {
			*off = append(*off, detector.ParseMechanism(name))
		}
	}
	return errs
}

// keyLine finds the line of a dotted key under n, or def.
func keyLine(n ast.Node, dotted string, def int) int {
	for part := range strings.SplitSeq(dotted, ".") {
		m, ok := mapping(n)
		if !ok {
			return def
		}
		i := slices.IndexFunc(m.Values, func(kv *ast.MappingValueNode) bool { return kv.Key.String() == part })
		if i < 0 {
			return def
		}
		def, n = line(m.Values[i].Key), m.Values[i].Value
	}
	return def
}
