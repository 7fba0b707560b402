package config

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/lexer"

	"github.com/astraguard/astraguard/breaker"
)

// TestBreakerKeysAtExtremes walks every numeric key of a breakers section
// at its extreme values: each is refused with an error naming the key and
// its line, or accepted and the breaker built from it allocates a bounded
// amount. Never a crash or an out-of-memory (count_window.size 1e11 was
// a fatal error in breaker.newCountWindow).
func TestBreakerKeysAtExtremes(t *testing.T) {
	values := map[reflect.Kind][]string{
		reflect.Int:     {"0", "-1", "100000000000", "9223372036854775807", "-9223372036854775808"},
		reflect.Float64: {"0", "-1", "1e308", ".nan", ".inf", "-.inf"},
		reflect.Int64:   {"0s", "-1ns", "1ns", "2562047h47m16.854775807s", "-2562047h47m16.854775808s"}, // time.Duration
	}
	kinds := breakerNumericKeys()
	if len(kinds) != 17 {
		t.Fatalf("found %d numeric breaker keys, want 17: %v", len(kinds), kinds)
	}
	s := Schema{Breakers: []string{"model"}}
	accepted := 0
	for key, kind := range kinds {
		for _, v := range values[kind] {
			src, line := breakerSource(key, v)
			c, err := Parse("b.yaml", []byte(src), s)
			if err != nil {
				want := fmt.Sprintf("b.yaml:%d: breakers.model.%s: ", line, key)
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s = %s: error %q, want it to name %q", key, v, err, want)
				}
				continue
			}
			accepted++
			b, _ := c.Breaker("model")
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = breaker.New("model", b.Over(breaker.Settings{}))
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Errorf("%s = %s: accepted by Parse, refused by breaker.New: %v", key, v, err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
				t.Errorf("%s = %s: breaker.New allocated %d bytes", key, v, grew)
			}
		}
	}
	if accepted == 0 {
		t.Error("no extreme value was accepted: the walk proved nothing about allocation")
	}
}

// breakerNumericKeys maps each numeric key of a breakers section to its
// Go kind (durations are Int64).
func breakerNumericKeys() map[string]reflect.Kind {
	kinds := map[string]reflect.Kind{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for f := range t.Fields() {
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			switch {
			case tag == "" || tag == "-" || tag == "preset":
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, prefix+tag+".")
			default:
				kinds[prefix+tag] = f.Type.Kind()
			}
		}
	}
	walk(reflect.TypeFor[breaker.Settings](), "")
	return kinds
}

// TestBreakerZeroIsOffOrRefused: a breakers key written 0 is accepted only
// where 0 turns something off (a window, the slow-call rule, the
// jitter); everywhere else 0 would silently take the default, so it is
// refused, naming the key and its line.
func TestBreakerZeroIsOffOrRefused(t *testing.T) {
	off := map[string]bool{"count_window.size": true, "time_window.length": true, "slow_call.duration": true, "backoff.jitter": true}
	s := Schema{Breakers: []string{"model"}}
	for key, kind := range breakerNumericKeys() {
		zero := "0"
		if kind == reflect.Int64 {
			zero = "0s"
		}
		src, line := breakerSource(key, zero)
		_, err := Parse("b.yaml", []byte(src), s)
		want := fmt.Sprintf("b.yaml:%d: breakers.model.%s: must not be 0 (leave the key out for the default)", line, key)
		switch {
		case off[key] && err != nil:
			t.Errorf("%s: 0: %v, want it accepted (0 is off)", key, err)
		case !off[key] && (err == nil || err.Error() != want):
			t.Errorf("%s: 0: %v, want %q", key, err, want)
		}
	}
}

// breakerSource writes a breakers.model section that sets the dotted key
// to v, with the window its rule needs switched on (so the value is not
// ignored), and returns it with the key's line.
func breakerSource(key, v string) (string, int) {
	section, field, nested := strings.Cut(key, ".")
	sections := map[string]map[string]string{}
	switch section {
	case "count_window", "slow_call":
		sections["count_window"] = map[string]string{"size": "10"}
	case "time_window":
		sections["time_window"] = map[string]string{"length": "1m"}
	}
	top := map[string]string{}
	if nested {
		if sections[section] == nil {
			sections[section] = map[string]string{}
		}
		sections[section][field] = v
	} else {
		top[key] = v
	}
	src, line, n := "breakers:\n  model:\n", 0, 3
	for _, k := range slices.Sorted(maps.Keys(top)) {
		src += fmt.Sprintf("    %s: %s\n", k, top[k])
		if k == key {
			line = n
		}
		n++
	}
	for _, sec := range slices.Sorted(maps.Keys(sections)) {
		src += fmt.Sprintf("    %s:\n", sec)
		n++
		for _, f := range slices.Sorted(maps.Keys(sections[sec])) {
			src += fmt.Sprintf("      %s: %s\n", f, sections[sec][f])
			if sec+"."+f == key {
				line = n
			}
			n++
		}
	}
	return src, line
}

// TestCountTokensBoundsTheScanner: countTokens never counts fewer tokens
// than goccy's scanner makes, so MaxTokens bounds what the parser gets.
func TestCountTokensBoundsTheScanner(t *testing.T) {
	example, err := os.ReadFile("../../examples/config/astraguard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{
		string(example),
		"policies: [" + strings.Repeat("a,", 1000) + "a]\n",
		"policies: [" + strings.Repeat("{a: b},", 1000) + "]\n",
		"policies:\n" + strings.Repeat("  - name: 'x y'\n    match: [\"a,b\", c]\n", 100),
		"a: &x [1, 2]\nb: *x\nc: !!str 3\nd: |\n  text\n  more\n",
		strings.Repeat("? a\n: b\n", 100),
		strings.Repeat("-\n", 100) + "---\n...\n",
	} {
		n, _ := countTokens([]byte(data))
		if got := len(lexer.Tokenize(data)); n < got {
			t.Errorf("countTokens(%.40q) = %d, the scanner makes %d", data, n, got)
		}
	}
}
