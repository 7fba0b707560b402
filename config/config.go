package config

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Schema says which keys a file may hold besides the breakers section.
type Schema struct {
	// Keys are the top-level scalar keys allowed (flag names with
	// underscores), mapped to whether a list is allowed as well (a
	// repeatable flag).
	Keys map[string]bool
	// Breakers are the breaker names the breakers section may configure.
	Breakers []string
}

// Config is one parsed and validated file. Immutable.
type Config struct {
	path        string
	digest      [sha256.Size]byte
	values      []Value
	breakers    map[string]Breaker
	policies    []Policy
	hasPolicies bool
}

// Value is a top-level key's value as text (a list gives one Value per
// element, in order), with the line it was written on.
type Value struct {
	Key  string
	Text string
	Line int
}

// Digest returns the SHA-256 of the file's content, for Watcher.
func (c *Config) Digest() [sha256.Size]byte { return c.digest }

// Path returns the file the configuration came from ("" for Parse without
// a name).
func (c *Config) Path() string { return c.path }

// Values returns the top-level key values in file order.
func (c *Config) Values() []Value { return slices.Clone(c.values) }

// Breaker returns the settings the file gives the breaker named name.
func (c *Config) Breaker(name string) (Breaker, bool) {
	b, ok := c.breakers[name]
	return b, ok
}

// Error is one problem in a file: the key (a dotted path) and the line.
type Error struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %v", loc, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", loc, e.Key, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads and parses the file at path.
func Load(path string, s Schema) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, s)
}

// Parse decodes and validates data, named name in errors. It returns every
// problem found, joined, each an *Error.
func Parse(name string, data []byte, s Schema) (c *Config, err error) {
	// goccy/go-yaml can panic on hostile input (FuzzParse found a nil
	// dereference in its decoder: testdata/fuzz/FuzzParse). A file, which
	// a reload reads while serving, must only ever be refused.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, &Error{File: name, Err: fmt.Errorf("the YAML decoder failed on this file: %v", r)}
		}
	}()
	return parse(name, data, s)
}

func parse(name string, data []byte, s Schema) (*Config, error) {
	c := &Config{path: name, digest: sha256.Sum256(data), breakers: map[string]Breaker{}}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	var errs []error
	for _, doc := range f.Docs {
		if doc.Body == nil {
			continue
		}
		if len(f.Docs) > 1 {
			return nil, &Error{File: name, Err: errors.New("more than one YAML document")}
		}
		m, ok := mapping(doc.Body)
		if !ok {
			if _, null := doc.Body.(*ast.NullNode); null {
				continue // "---" alone, or only comments: all defaults
			}
			return nil, &Error{File: name, Line: line(doc.Body), Err: errors.New("want a mapping of keys to values")}
		}
		errs = c.decode(name, m, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// decode walks the top-level mapping.
func (c *Config) decode(file string, m *ast.MappingNode, s Schema) []error {
	var errs []error
	seen := map[string]bool{}
	for _, kv := range m.Values {
		key := kv.Key.String()
		bad := func(err error) { errs = append(errs, &Error{File: file, Line: line(kv.Key), Key: key, Err: err}) }
		if seen[key] {
			bad(errors.New("given twice"))
			continue
		}
		seen[key] = true
		switch key {
		case "breakers":
			errs = append(errs, c.decodeBreakers(file, kv.Value, s.Breakers)...)
			continue
		case "policies":
			errs = append(errs, c.decodePolicies(file, kv.Value)...)
			continue
		}
		list, known := s.Keys[key]
		if !known {
			bad(errors.New("unknown key" + suggest(key, s.Keys)))
			continue
		}
		vals, err := scalars(key, kv.Value, list)
		if err != nil {
			bad(err)
			continue
		}
		c.values = append(c.values, vals...)
	}
	return errs
}

// scalars turns a value node into Values: one for a scalar, one per
// element for a list (allowed only for repeatable keys).
func scalars(key string, n ast.Node, list bool) ([]Value, error) {
	if seq, ok := n.(*ast.SequenceNode); ok {
		if !list {
			return nil, errors.New("want a single value, not a list")
		}
		var out []Value
		for _, el := range seq.Values {
			v, err := scalar(key, el)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	v, err := scalar(key, n)
	return []Value{v}, err
}

func scalar(key string, n ast.Node) (Value, error) {
	switch t := n.(type) {
	case *ast.NullNode:
		return Value{}, errors.New("no value (leave the key out to keep the default)")
	case ast.ScalarNode:
		text := fmt.Sprint(t.GetValue())
		if s, ok := t.(*ast.StringNode); ok {
			text = s.Value
		}
		return Value{Key: key, Text: text, Line: line(n)}, nil
	}
	return Value{}, fmt.Errorf("want a single value, got %s", strings.ToLower(n.Type().String()))
}

func mapping(n ast.Node) (*ast.MappingNode, bool) {
	switch t := n.(type) {
	case *ast.MappingNode:
		return t, true
	case *ast.MappingValueNode: // a one-key mapping
		return &ast.MappingNode{Values: []*ast.MappingValueNode{t}}, true
	}
	return nil, false
}

func line(n ast.Node) int {
	if n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// yamlError turns a go-yaml error into an *Error with its line, without
// echoing the file's text (a value could be sensitive).
func yamlError(file string, err error) error {
	var te yaml.Error
	if errors.As(err, &te) && te.GetToken() != nil {
		return &Error{File: file, Line: te.GetToken().Position.Line, Err: errors.New(te.GetMessage())}
	}
	return &Error{File: file, Err: err}
}

// suggest names the closest known key, for typos.
func suggest(key string, keys map[string]bool) string {
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if strings.ReplaceAll(k, "_", "") == strings.ReplaceAll(strings.ReplaceAll(key, "-", ""), "_", "") {
			return fmt.Sprintf(" (did you mean %s?)", k)
		}
	}
	return ""
}
