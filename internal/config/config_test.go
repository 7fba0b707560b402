package config_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var schema = config.Schema{
	Keys:     map[string]bool{"grpc_addr": false, "model_timeout": false, "admin_allowed_identity": true},
	Breakers: []string{"model"},
}

func TestParseValid(t *testing.T) {
	src := `# comment
grpc_addr: ":50051"
model_timeout: 250ms
admin_allowed_identity: [ops.example.org, "spiffe://example.org/ops"]
breakers:
  model:
    preset: strict
    recovery_timeout: 30s
    count_window: {size: 25, failure_ratio: 0.56}
    slow_call:
      duration: 2s
      ratio: 0.8
    backoff: {multiplier: 2, max: 5m, jitter: 0.1}
`
	c, err := config.Parse("a.yaml", []byte(src), schema)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	want := []config.Value{
		{Key: "grpc_addr", Text: ":50051", Line: 2},
		{Key: "model_timeout", Text: "250ms", Line: 3},
		{Key: "admin_allowed_identity", Text: "ops.example.org", Line: 4},
		{Key: "admin_allowed_identity", Text: "spiffe://example.org/ops", Line: 4},
	}
	if diff := cmp.Diff(want, c.Values()); diff != "" {
		t.Errorf("Values() diff (-want +got):\n%s", diff)
	}
	b, ok := c.Breaker("model")
	wantB := config.Breaker{Preset: "strict", Settings: breaker.Settings{RecoveryTimeout: 30 * time.Second,
		CountWindow: breaker.CountWindow{Size: 25, FailureRatio: 0.56},
		SlowCall:    breaker.SlowCall{Duration: 2 * time.Second, Ratio: 0.8},
		Backoff:     breaker.Backoff{Multiplier: 2, Max: 5 * time.Minute, Jitter: 0.1}}, Line: 6}
	if diff := cmp.Diff(wantB, b); !ok || diff != "" {
		t.Errorf("Breaker(model) diff (-want +got):\n%s", diff)
	}
}

func TestParseEmptyIsDefaults(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "---\n", "breakers:\n"} {
		c, err := config.Parse("e.yaml", []byte(src), schema)
		if err != nil {
			t.Fatalf("Parse(%q) = %v, want a valid empty config", src, err)
		}
		if len(c.Values()) != 0 {
			t.Errorf("Parse(%q).Values() = %v, want none", src, c.Values())
		}
		if _, ok := c.Breaker("model"); ok {
			t.Errorf("Parse(%q) configured breaker model", src)
		}
	}
}

// TestParseErrors: every bad input names the key and the line; none is
// silently replaced by a default.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // each must appear in the error
	}{
		{"unknown key", "grpc_addr: x\ngrpc_adr: y\n", []string{"b.yaml:2: grpc_adr: unknown key"}},
		{"typo suggestion", "model-timeout: 1s\n", []string{"did you mean model_timeout?"}},
		{"twice", "grpc_addr: x\ngrpc_addr: y\n", []string{"b.yaml:2:", `"grpc_addr" already defined`}},
		{"list for single", "grpc_addr: [a, b]\n", []string{"b.yaml:1: grpc_addr: want a single value"}},
		{"mapping for scalar", "grpc_addr:\n  x: 1\n", []string{"grpc_addr: want a single value"}},
		{"null value", "grpc_addr:\n", []string{"grpc_addr: no value"}},
		{"unknown breaker", "breakers:\n  modle: {}\n", []string{"b.yaml:2: breakers.modle: unknown breaker (known: model)"}},
		{"unknown breaker field", "breakers:\n  model:\n    failure_treshold: 3\n    count_window: {sise: 3}\n",
			[]string{"b.yaml:3: breakers.model.failure_treshold: unknown key (did you mean failure_threshold?)",
				"b.yaml:4: breakers.model.count_window.sise: unknown key (did you mean size?)"}},
		{"top-level typo", "log_levle: debug\n", []string{"b.yaml:1: log_levle: unknown key"}},
		{"wrong type", "breakers:\n  model:\n    count_window:\n      size: many\n", []string{"b.yaml:4: breakers.model.count_window.size: want a whole number"}},
		{"list for a number", "breakers:\n  model:\n    backoff: {jitter: [1]}\n", []string{"b.yaml:3: breakers.model.backoff.jitter: want a single value"}},
		{"text for a ratio", "breakers:\n  model:\n    count_window: {size: 5, failure_ratio: half}\n", []string{"b.yaml:3: breakers.model.count_window.failure_ratio: want a number"}},
		{"fraction for a count", "breakers:\n  model:\n    failure_threshold: 1.5\n", []string{"b.yaml:3: breakers.model.failure_threshold: want a whole number"}},
		{"bad duration", "breakers:\n  model:\n    recovery_timeout: soon\n", []string{"b.yaml:3: breakers.model.recovery_timeout: want a duration"}},
		{"negative duration", "breakers:\n  model:\n    recovery_timeout: -5s\n", []string{"b.yaml:3: breakers.model.recovery_timeout: -5s outside [0, 168h0m0s]"}},
		{"ratio out of range", "breakers:\n  model:\n    count_window:\n      size: 10\n      failure_ratio: 1.5\n",
			[]string{"b.yaml:5: breakers.model.count_window.failure_ratio: 1.5 outside (0, 1]"}},
		{"min calls above size", "breakers:\n  model:\n    count_window: {size: 5, min_calls: 6}\n", []string{"breakers.model.count_window.min_calls"}},
		{"bad preset", "breakers:\n  model:\n    preset: paranoid\n", []string{"b.yaml:3: breakers.model.preset: want one of strict, balanced, lenient"}},
		{"slow call alone", "breakers:\n  model:\n    slow_call: {duration: 1s}\n", []string{"breakers.model.slow_call.duration: needs count_window"}},
		{"all problems at once", "breakers:\n  model:\n    max_probes: 300\n    backoff: {jitter: 1}\n",
			[]string{"b.yaml:3: breakers.model.max_probes", "b.yaml:4: breakers.model.backoff.jitter"}},
		{"not a mapping", "- a\n- b\n", []string{"b.yaml:1: want a mapping"}},
		{"syntax", "grpc_addr: \"x\n", []string{"b.yaml:1:"}},
		{"anchored mapping", "breakers: &b\n  model:\n    failure_threshold: 5\n", []string{"b.yaml:1: YAML anchors (&name), aliases (*name) and merge keys (<<) are not supported"}},
		{"merge key", "policies:\n  - name: a\n    match: [\"*/volt\"]\n    <<: {threshold: 0.9}\n", []string{"b.yaml:4: YAML anchors"}},
		{"unquoted glob", "policies:\n  - name: a\n    match: [*/volt]\n", []string{"b.yaml:3: YAML anchors", "a glob that starts with * must be quoted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("b.yaml", []byte(tt.src), schema)
			if err == nil {
				t.Fatalf("Parse(%q) = nil error, want one", tt.src)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Errorf("Parse error %T is no *config.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) = %q, want it to contain %q", tt.src, err, w)
				}
			}
		})
	}
}

// TestParseErrorsShowLongKeysCut: a key is shown up to 128 bytes, then
// "...": a file of the wrong kind (100 keys of 40 KB) was repeated whole,
// 4 MB, in the log and in /-/reload's answer.
func TestParseErrorsShowLongKeysCut(t *testing.T) {
	var src strings.Builder
	for i := range 100 {
		fmt.Fprintf(&src, "k%d%s: 1\n", i, strings.Repeat("y", 40_000))
	}
	_, err := config.Parse("w.yaml", []byte(src.String()), schema)
	if err == nil {
		t.Fatal("Parse() = nil error, want unknown keys")
	}
	for line := range strings.Lines(err.Error()) {
		if len(line) > 256 || !strings.Contains(line, "yyy...: unknown key") {
			t.Fatalf("Parse() reports a line of %d bytes (%.80q), want the key cut after 128 bytes", len(line), line)
		}
	}
}

// TestParseErrorsDoNotEchoValues: a value that fails is named by key and
// line, so a secret pasted into the wrong key is not printed.
func TestParseErrorsDoNotEchoValues(t *testing.T) {
	_, err := config.Parse("s.yaml", []byte("admin_token: s3cr3t-t0ken-value\n"), schema)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("Parse = %v, want an error without the value", err)
	}
}

func TestParsePolicies(t *testing.T) {
	src := `policies:
  - name: bus-a
    match: ["sat1/bus-a/*"]
    limits: {min: 7, max: 9}
    expected_range: {min: 0}
    threshold: 0.7
    direction: down
    min_deviation: 0.25
    min_relative_deviation: 0.1
    sensitivity: 2.5
    mechanisms: {season: off, shift: on}
  - name: wheels
    regex: '^sat[0-9]+\.rw[0-9]$'
`
	c, err := config.Parse("p.yaml", []byte(src), schema)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	ps, ok := c.Policies()
	want := []detector.Policy{{Name: "bus-a", Globs: []string{"sat1/bus-a/*"}, Limit: heuristic.Within(7, 9),
		Range: heuristic.Limit{Low: 0, High: math.Inf(1), CheckLow: true}, Threshold: 0.7, Direction: detector.DirectionDown,
		MinDeviation: 0.25, MinRelativeDeviation: 0.1, Sensitivity: 2.5, Off: []detector.Mechanism{detector.MechanismSeason}},
		{Name: "wheels", Regex: `^sat[0-9]+\.rw[0-9]$`}}
	if diff := cmp.Diff(want, ps, cmpopts.IgnoreUnexported(detector.Policy{})); !ok || diff != "" {
		t.Errorf("Policies() diff (-want +got):\n%s", diff)
	}
	// Mechanisms turned off are listed in the detector's order, whatever
	// the file's.
	c, err = config.Parse("p.yaml", []byte("policies:\n  - {name: a, match: [x], mechanisms: {state: off, shift: on, season: off}}\n"), schema)
	if ps, _ := c.Policies(); err != nil || !slices.Equal(ps[0].Off, []detector.Mechanism{detector.MechanismSeason, detector.MechanismState}) {
		t.Errorf("Policies() = %+v, %v; want mechanisms season and state off", ps, err)
	}
	if c, _ := config.Parse("p.yaml", nil, schema); func() bool { _, ok := c.Policies(); return ok }() {
		t.Errorf("a file without policies reports a policies key")
	}
	if c, _ := config.Parse("p.yaml", []byte("policies: []\n"), schema); func() bool { ps, ok := c.Policies(); return !ok || len(ps) != 0 }() {
		t.Errorf("policies: [] is not an explicit empty list")
	}
	bad := []struct{ src, want string }{
		{"policies:\n  - match: [x]\n", "p.yaml:2: policies[0].name: required"},
		{"policies:\n  - name: a\n    match: [x]\n    regex: y\n", "p.yaml:3: policies[0].match: give globs or a regex, one of them"},
		{"policies:\n  - name: a\n    regex: '('\n", "p.yaml:3: policies[0].regex: invalid regular expression"},
		{"policies:\n  - name: a\n    regex: '(Limit'\n", "policies[0].regex: invalid regular expression: error parsing regexp: missing closing ): `(Limit`"}, // echoed as written
		{"policies:\n  - name: a\n    match: [x]\n    threshold: 2\n", "p.yaml:4: policies[0].threshold"},
		{"policies:\n  - name: a\n    match: [x]\n    limits: {min: 9, max: 7}\n", "p.yaml:4: policies[0].limits: min above max"},
		{"policies:\n  - name: a\n    match: [x]\n    limit: {min: 9}\n", "p.yaml:4: policies[0].limit: unknown key (did you mean limits?)"},
		{"policies:\n  name: a\n", "p.yaml:2: policies: want a list"},
		{"policies:\n  - name: [a]\n    match: [x]\n", "p.yaml:2: policies[0].name: want a single value"},
		{"policies:\n  - name: a\n    match: x\n", "p.yaml:3: policies[0].match: want a list"},
		{"policies:\n  - name: a\n    match: [x]\n    mechanisms: [season]\n", "p.yaml:4: policies[0].mechanisms: want a mapping such as {name: value}"},
		{"policies:\n  - name: a\n    match: [x]\n    direction: sideways\n", "p.yaml:4: policies[0].direction: want up, down or both"},
		{"policies:\n  - name: a\n    match: [x]\n    min_deviation: -1\n", "p.yaml:4: policies[0].min_deviation"},
		{"policies:\n  - name: a\n    match: [x]\n    min_relative_deviation: .nan\n", "p.yaml:4: policies[0].min_relative_deviation"},
		{"policies:\n  - name: a\n    match: [x]\n    mechanisms: {seasn: off}\n", "p.yaml:4: policies[0].mechanisms: unknown mechanism \"seasn\" (did you mean season?)"},
		{"policies:\n  - name: a\n    match: [x]\n    mechanisms: {season: maybe}\n", "p.yaml:4: policies[0].mechanisms: mechanism season: \"maybe\", want on or off"},
		{"policies:\n  - name: a\n    match: [x]\n    mechanisms: {limit: off}\n", "p.yaml:4: policies[0].mechanisms: unknown mechanism"},
		{"policies:\n  - name: a\n    match: [x]\n    sensitivity: 0\n", "p.yaml:4: policies[0].sensitivity: must not be 0 (leave the key out for the default)"},
		{"policies:\n  - name: a\n    match: [x]\n    sensitivity: -1\n", "p.yaml:4: policies[0].sensitivity: -1 outside [0.01, 100]"},
		{"policies:\n  - name: a\n    match: [x]\n    sensitivity: .nan\n", "p.yaml:4: policies[0].sensitivity: NaN outside"},
		{"policies:\n  - name: a\n    match: [x]\n    sensitivity: 1e9\n", "p.yaml:4: policies[0].sensitivity: 1e+09 outside [0.01, 100]"},
		{"policies:\n  - name: a\n    match: [x]\n    sensitivity: high\n", "p.yaml:4: policies[0].sensitivity: want a number"},
		{"policies:\n  - name: " + strings.Repeat("n", 65) + "\n    match: [x]\n", "p.yaml:2: policies[0].name: longer than 64 bytes"},
		{"policies:\n  - name: a\n    match: [x]\n    limits: {}\n", "p.yaml:4: policies[0].limits: want min, max or both"},
		{"policies:\n  - name: a\n    match: ['*']\n  - name: b\n    match: [x]\n", "p.yaml:4: policies[1]: unreachable"},
	}
	for _, tt := range bad {
		if _, err := config.Parse("p.yaml", []byte(tt.src), schema); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.src, err, tt.want)
		}
	}
}

// TestUnknownKeySuggestsNearest: a misspelt key names the nearest known
// one (by edit distance, a swap of two letters counting once); a key near
// none gets no guess.
func TestUnknownKeySuggestsNearest(t *testing.T) {
	s := config.Schema{Keys: map[string]bool{"log_level": false, "log_format": false, "grpc_addr": false, "model_timeout": false}}
	tests := []struct{ key, want string }{
		{"log_levle", "(did you mean log_level?)"},
		{"log-level", "(did you mean log_level?)"},
		{"grpc_adr", "(did you mean grpc_addr?)"},
		{"model_timout", "(did you mean model_timeout?)"},
		{"replicas", "unknown key\n"},
	}
	for _, tt := range tests {
		_, err := config.Parse("k.yaml", []byte(tt.key+": x\n"), s)
		if err == nil || !strings.Contains(err.Error()+"\n", tt.want) {
			t.Errorf("Parse(%s) = %v, want it to end %q", tt.key, err, tt.want)
		}
	}
}

// TestParseReportsEveryProblemInLineOrder: all of a file's problems at
// once, sorted by line, whichever section each comes from.
func TestParseReportsEveryProblemInLineOrder(t *testing.T) {
	src := "policies:\n  - name: a\n    match: [x]\n    threshold: 2\nbreakers:\n  model:\n    max_probes: 300\n    count_window: {size: 100000000000}\ngrpc_adr: x\n"
	_, err := config.Parse("o.yaml", []byte(src), schema)
	if err == nil {
		t.Fatal("Parse = nil error")
	}
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		lines = append(lines, strings.SplitN(l, ": ", 2)[0])
	}
	want := []string{"o.yaml:4", "o.yaml:7", "o.yaml:8", "o.yaml:9"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("problem lines (-want +got):\n%s\nerror:\n%v", diff, err)
	}
}

// TestLoadRefusesHugeFile: a file over MaxFileBytes, or a path to a
// device that never ends, is refused without reading it all.
func TestLoadRefusesHugeFile(t *testing.T) {
	// A device is refused before a byte is read; a regular file over
	// the cap (sparse, so it costs no disk) by its size.
	if _, err := config.Load("/dev/zero", schema); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load(/dev/zero) = %v, want refused as not a regular file", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, config.MaxFileBytes+1); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(big, schema); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(%d-byte file) = %v, want refused as too large", config.MaxFileBytes+1, err)
	}
}

// TestParseRefusesDeepNesting: flow collections nested past MaxNesting are
// refused with the line, before the YAML parser, whose memory grows with
// the square of the depth (a 30 KB line of "[" took 1.4 GB), sees them.
// A reload reads the file while serving, so it must not be able to
// exhaust the service's memory.
func TestParseRefusesDeepNesting(t *testing.T) {
	for name, data := range map[string]string{
		"unclosed": "log_level: info\npolicies: " + strings.Repeat("[", 20000) + "\n",
		"closed":   "policies: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n",
		"mappings": "breakers: " + strings.Repeat("{a: ", 20000) + "1" + strings.Repeat("}", 20000) + "\n",
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := config.Parse("deep.yaml", []byte(data), schema)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "nested deeper than") {
			t.Errorf("%s: Parse = %v, want refused as nested too deep", name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
			t.Errorf("%s: Parse allocated %d MB, want under 64", name, got>>20)
		}
	}
	// Nesting up to the bound parses as usual (here: a wrong shape).
	ok := "policies: " + strings.Repeat("[", config.MaxNesting) + strings.Repeat("]", config.MaxNesting) + "\n"
	if _, err := config.Parse("ok.yaml", []byte(ok), schema); err == nil || strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("Parse(%d levels) = %v, want a shape error, not a nesting one", config.MaxNesting, err)
	}
}

// TestParseBoundsTokensAndProblems: a file of more than MaxTokens tokens
// is refused while it is tokenized (a 2 MB flow list of a million items
// took the YAML parser 1.1 GB), and a file with many problems reports
// the first MaxProblems of them and how many more there are, not an
// error of megabytes for a reload to log.
func TestParseBoundsTokensAndProblems(t *testing.T) {
	flat := "policies: [" + strings.Repeat("a,", 1_000_000) + "a]\n"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := config.Parse("flat.yaml", []byte(flat), schema)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "flat.yaml:1: more than 100000 YAML tokens") {
		t.Errorf("Parse(a million items) = %.200v, want refused for its tokens", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 128<<20 {
		t.Errorf("Parse(a million items) allocated %d MB, want under 128", got>>20)
	}

	var b strings.Builder
	b.WriteString("policies:\n")
	for range 1000 {
		b.WriteString("  - 1\n")
	}
	_, err = config.Parse("many.yaml", []byte(b.String()), schema)
	if err == nil {
		t.Fatal("Parse(1000 bad policies) = nil, want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != config.MaxProblems+1 {
		t.Fatalf("Parse(1000 bad policies) reported %d lines, want %d", len(lines), config.MaxProblems+1)
	}
	if want := "many.yaml:102: 900 more problems from here on not shown"; lines[len(lines)-1] != want {
		t.Errorf("last line = %q, want %q", lines[len(lines)-1], want)
	}
}
