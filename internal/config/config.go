package config

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/internal/smallfile"
)

// Schema says which keys a file may hold besides the breakers section.
type Schema struct {
	// Keys are the top-level scalar keys allowed (flag names with
	// underscores), mapped to whether a list is allowed as well (a
	// repeatable flag).
	Keys map[string]bool
	// Breakers are the breaker names the breakers section may configure.
	Breakers []string
	// Check, if set, is called with each top-level value in file order
	// (the caller's flag checks its text); an error it returns is that
	// key's problem, reported with its line among the file's others.
	Check func(Value) error
}

// Config is one parsed and validated file. Immutable.
type Config struct {
	path     string
	digest   [sha256.Size]byte
	values   []Value
	breakers map[string]Breaker
	// breakerNodes are the breakers' sections, for the lines of their keys.
	breakerNodes map[string]ast.Node
	policies     []detector.Policy
	hasPolicies  bool
	empty        bool
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

// Empty reports whether the file held nothing but white space: every
// setting at its default. A reload that finds a file empty which was not
// at start has most likely caught it mid-rewrite.
func (c *Config) Empty() bool { return c.empty }

// Values returns the top-level key values in file order.
func (c *Config) Values() []Value { return slices.Clone(c.values) }

// Breaker returns the settings the file gives the breaker named name (none
// for a nil Config: no file).
func (c *Config) Breaker(name string) (Breaker, bool) {
	if c == nil {
		return Breaker{}, false
	}
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
	key := e.Key
	if len(key) > maxShownKey {
		// A key is the file's text: a file of the wrong kind can hold one
		// of megabytes, which every report (the log, /-/reload's JSON)
		// would repeat.
		key = strings.ToValidUTF8(key[:maxShownKey], "") + "..."
	}
	return fmt.Sprintf("%s: %s: %v", loc, key, e.Err)
}

// maxShownKey is the longest key an Error shows whole; every known key
// path is far shorter.
const maxShownKey = 128

func (e *Error) Unwrap() error { return e.Err }

// MaxFileBytes bounds a configuration file: a file larger than this (or a
// path to a device that never ends) is refused before it is parsed.
const MaxFileBytes = 4 << 20

// Load reads and parses the file at path, reading at most MaxFileBytes.
func Load(path string, s Schema) (*Config, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, s)
}

// ReadFile reads the file at path whole, refusing one of more than
// MaxFileBytes or one that is not a regular file (a FIFO, a device).
func ReadFile(path string) ([]byte, error) {
	data, err := smallfile.Read(path, MaxFileBytes)
	switch {
	case errors.Is(err, smallfile.ErrTooLarge):
		return nil, &Error{File: path, Err: fmt.Errorf("larger than %d bytes", MaxFileBytes)}
	case err != nil:
		return nil, fmt.Errorf("read config: %w", err)
	}
	return data, nil
}

// MaxNesting bounds how deeply flow collections ([...] and {...}) may nest
// in a file, and MaxTokens how many YAML tokens a file may hold. The
// deepest the schema has is three, and a file with a thousand policies
// has some 20,000 tokens. goccy/go-yaml's parser takes memory in the
// square of the nesting depth (a 30 KB line of "[" took 1.4 GB) and its
// scanner and parser about 1.3 KB per token (a 2 MB flow list of a
// million one-letter items took 1.1 GB), so a file past either bound is
// refused before it is parsed. Block nesting needs indentation, so
// MaxFileBytes already bounds it.
const (
	MaxNesting = 100
	MaxTokens  = 100_000
)

// tokenize splits data into YAML tokens, refusing a file past MaxTokens
// or MaxNesting, named by the line where the bound is crossed. goccy's
// scanner tokenizes a whole file in one call, so the count is estimated
// from the bytes first (countTokens).
func tokenize(name string, data []byte) (token.Tokens, error) {
	if n, line := countTokens(data); n > MaxTokens {
		return nil, &Error{File: name, Line: line, Err: fmt.Errorf("more than %d YAML tokens", MaxTokens)}
	}
	tokens := lexer.Tokenize(string(data))
	depth := 0
	for _, tk := range tokens {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			if depth++; depth > MaxNesting {
				return nil, &Error{File: name, Line: tk.Position.Line, Err: fmt.Errorf("collections nested deeper than %d", MaxNesting)}
			}
		case token.SequenceEndType, token.MappingEndType:
			depth = max(0, depth-1)
		case token.AnchorType, token.AliasType, token.MergeKeyType:
			return nil, &Error{File: name, Line: tk.Position.Line, Err: errors.New(
				"YAML anchors (&name), aliases (*name) and merge keys (<<) are not supported: write the value out (a glob that starts with * must be quoted)")}
		}
	}
	return tokens, nil
}

// countTokens bounds from above the YAML tokens in data without
// allocating: each indicator (",[]{}:-?|>&*!") and each run of other
// non-blank bytes counts one, as do a quoted string and a comment. A
// plain scalar with blanks counts one per word, more than the scanner
// makes, so the estimate errs toward refusing, but only for files far
// larger than any configuration. It stops once the count passes
// MaxTokens and returns the line it got there.
func countTokens(data []byte) (n, line int) {
	line = 1
	inWord := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			line++
			inWord = false
			continue
		case c == ' ' || c == '\t' || c == '\r':
			inWord = false
			continue
		case c == '#' && !inWord:
			for i < len(data)-1 && data[i+1] != '\n' {
				i++
			}
		case (c == '"' || c == '\'') && !inWord:
			for i++; i < len(data) && data[i] != c; i++ {
				if data[i] == '\n' {
					line++
				}
				if c == '"' && data[i] == '\\' {
					i++
				}
			}
		case strings.IndexByte(",[]{}:-?|>&*!", c) >= 0:
			inWord = false
		case inWord:
			continue
		default:
			inWord = true
		}
		if n++; n > MaxTokens {
			return n, line
		}
	}
	return n, line
}

// Parse decodes and validates data, named name in errors. It returns every
// problem found, joined in line order, each an *Error.
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
	c := &Config{path: name, digest: sha256.Sum256(data), breakers: map[string]Breaker{}, breakerNodes: map[string]ast.Node{},
		empty: len(bytes.TrimSpace(data)) == 0}
	tokens, err := tokenize(name, data)
	if err != nil {
		return nil, err
	}
	f, err := parser.Parse(tokens, 0)
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
		return nil, errors.Join(firstProblems(name, SortErrors(errs))...)
	}
	return c, nil
}

// MaxProblems bounds the problems Parse reports for one file; a file of
// 100,000 wrong items would otherwise make an error of megabytes, printed
// by --check-config and logged whole by a failed reload.
const MaxProblems = 100

// firstProblems keeps the first MaxProblems of errs (in line order) and
// says how many more there are, at the line of the first one left out.
func firstProblems(name string, errs []error) []error {
	if len(errs) <= MaxProblems {
		return errs
	}
	line := 0
	var e *Error
	if errors.As(errs[MaxProblems], &e) {
		line = e.Line
	}
	more := &Error{File: name, Line: line, Err: fmt.Errorf("%d more problems from here on not shown", len(errs)-MaxProblems)}
	return append(errs[:MaxProblems:MaxProblems], more)
}

// SortErrors orders problems as a user reads a file: errors without a
// line first (in their order), then by line; it drops exact repeats.
func SortErrors(errs []error) []error {
	lineOf := func(err error) int {
		var e *Error
		if errors.As(err, &e) {
			return e.Line
		}
		return 0
	}
	out := slices.Clone(errs)
	slices.SortStableFunc(out, func(a, b error) int { return lineOf(a) - lineOf(b) })
	return slices.CompactFunc(out, func(a, b error) bool { return a.Error() == b.Error() })
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
			bad(errors.New("unknown key" + suggest(key, maps.Keys(s.Keys))))
			continue
		}
		vals, err := scalars(key, kv.Value, list)
		if err != nil {
			bad(err)
			continue
		}
		for _, v := range vals {
			if s.Check == nil {
				break
			}
			if err := s.Check(v); err != nil {
				errs = append(errs, &Error{File: file, Line: v.Line, Key: key, Err: err})
			}
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

// suggest names the closest known key, for typos: the key with the fewest
// single-character edits, if that is at most a third of the key's length
// (at least 2); dashes count as underscores.
func suggest(key string, keys iter.Seq[string]) string {
	norm := strings.ReplaceAll(key, "-", "_")
	best, bestD := "", max(2, len(norm)/3)+1
	for _, k := range slices.Sorted(keys) {
		// The distance is at least the difference in length, so a key far
		// longer than any known one (a file of the wrong kind) costs no
		// quadratic comparison: 100 keys of 40 KB took 12 s.
		if abs(len(norm)-len(k)) >= bestD {
			continue
		}
		if d := editDistance(norm, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func abs(x int) int { return max(x, -x) }

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment: insertions, deletions, substitutions and swaps of two
// neighbours each cost 1) between a and b, bytewise.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
