package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	configfile "github.com/astraguard/astraguard/internal/config"
	"github.com/astraguard/astraguard/internal/testkit"
)

// updateDocs rewrites the generated sections of docs/configuration.md:
// go test ./cmd/astraguard -run TestConfigurationDoc -update-docs
var updateDocs = flag.Bool("update-docs", false, "rewrite the generated sections of docs/configuration.md")

const configDoc = "../../docs/configuration.md"

// TestConfigurationDoc: docs/configuration.md lists every flag with its
// file key, variable, default and whether a reload applies it, and every
// key of the breakers and policies sections, exactly as the code has
// them, so the page cannot drift.
func TestConfigurationDoc(t *testing.T) {
	testkit.CheckGenerated(t, configDoc, map[string]string{
		"astraguard-flags": flagTable(t),
		"breaker-keys":     keyTable(t, "breakers.model.", configfile.BreakerKeys(), breakerKeyDocs),
		"policy-keys":      keyTable(t, "policies[].", configfile.PolicyKeys(), policyKeyDocs),
	}, *updateDocs, "go test ./cmd/astraguard -run TestConfigurationDoc -update-docs")
}

func flagTable(t *testing.T) string {
	fs, _ := new(config).flagSet(io.Discard)
	vars := envBinding.Variables(fs)
	var b strings.Builder
	b.WriteString("| file key | flag | variable | default | reload | meaning |\n|---|---|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		key := "–"
		if !notFileKeys[f.Name] {
			key = "`" + fileKey(f.Name) + "`"
		} else if breakerFlag[f.Name] != "" {
			key = "`breakers.model." + breakerFlag[f.Name] + "`"
		}
		v := "–"
		if vars[f.Name] != "" {
			v = "`" + vars[f.Name] + "`"
		}
		reload := "restart"
		switch {
		case liveKeys[f.Name]:
			reload = "live"
		case breakerFlag[f.Name] != "":
			reload = "live (file key)"
		case f.Name == "config" || f.Name == "check-config" || f.Name == "version":
			reload = "–"
		}
		fmt.Fprintf(&b, "| %s | `--%s` | %s | %s | %s | %s |\n", key, f.Name, v, defaultText(f), reload, cell(f.Usage))
	})
	return b.String()
}

// breakerFlag maps the model breaker's flags to their key in the file's
// breakers.model section.
var breakerFlag = map[string]string{
	"breaker-preset": "preset", "failure-threshold": "failure_threshold",
	"recovery-timeout": "recovery_timeout", "success-threshold": "success_threshold",
}

var funcDefault = regexp.MustCompile(`\(default ([^)]+)\)`)

func defaultText(f *flag.Flag) string {
	d := f.DefValue
	if d == "" {
		if m := funcDefault.FindStringSubmatch(f.Usage); m != nil {
			d = m[1]
		}
	}
	if d == "" || d == "[]" {
		return "empty"
	}
	return "`" + d + "`"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// keyDoc is a file key's default and meaning, written here; the key set
// comes from the config package (the component types' yaml tags).
type keyDoc struct{ def, meaning string }

var breakerKeyDocs = map[string]keyDoc{
	"preset":                     {"`balanced`", "`strict` (2 failures / 10s / 1 success), `balanced` (5 / 60s / 2) or `lenient` (10 / 60s / 3); the keys below override it"},
	"failure_threshold":          {"preset's", "consecutive failures that open the breaker; -1 turns the rule off"},
	"recovery_timeout":           {"preset's", "wait while open before probing"},
	"success_threshold":          {"preset's", "probe successes that close the breaker"},
	"max_probes":                 {"`1`", "probes in flight while half-open (at most 255)"},
	"probe_timeout":              {"recovery_timeout, at least model_timeout", "a probe out longer counts as failed and its slot is reclaimed; at least `--model-timeout`, the longest a probe (a model call) runs, or refused"},
	"count_window.size":          {"`0` (off)", "calls in the count window's failure-ratio rule"},
	"count_window.min_calls":     {"size", "calls the window needs before the rule may trip"},
	"count_window.failure_ratio": {"`0.5`", "failure ratio in (0, 1] that trips, compared exactly"},
	"time_window.length":         {"`0` (off)", "span of the sliding time window's failure-ratio rule"},
	"time_window.buckets":        {"`10`", "slices the window slides by"},
	"time_window.min_calls":      {"`10`", "calls the window needs before the rule may trip"},
	"time_window.failure_ratio":  {"`0.5`", "failure ratio in (0, 1] that trips"},
	"slow_call.duration":         {"`0` (off)", "a call at least this long is slow (needs a window)"},
	"slow_call.ratio":            {"`1`", "slow-call ratio in (0, 1] that trips"},
	"backoff.multiplier":         {"`1` (no growth)", "growth of the recovery wait per trip"},
	"backoff.max":                {"10 × recovery_timeout", "cap of the grown wait"},
	"backoff.jitter":             {"`0`", "spread in [0, 1) of each wait"},
}

var policyKeyDocs = map[string]keyDoc{
	"name":                   {"required", "the policy's name, reported in each verdict's `policy` field"},
	"match":                  {"–", "globs matched case-insensitively (`*` any run, `?` one character); give match or regex"},
	"regex":                  {"–", "a Go regular expression matched as written (unanchored), at most 16 KiB"},
	"limits.min":             {"none", "operating limit: below it a value is a limit violation (anomaly, score 1)"},
	"limits.max":             {"none", "operating limit: above it a value is a limit violation"},
	"expected_range.min":     {"none", "below it a value is an anomaly with score 1"},
	"expected_range.max":     {"none", "above it a value is an anomaly with score 1"},
	"threshold":              {"detector's", "score in (0, 1] from which a verdict is anomalous"},
	"direction":              {"`both`", "`up`, `down` or `both`: the side of the expected value an anomaly may lie on"},
	"min_deviation":          {"`0`", "a value closer than this to the expected value is not anomalous"},
	"min_relative_deviation": {"`0`", "as min_deviation, as a fraction of abs(expected)"},
	"sensitivity":            {"`1`", "factor in [0.01, 100] on the expected false alarms of the model's calibrated mechanisms (`shift`, `season`'s daily profile, `novelty`) and the heuristic: 10 flags more, 0.1 fewer"},
	"mechanisms":             {"all on", "map of the model's mechanisms (`shift`, `season`, `novelty`, `stuck`, `record`, `context`, `state`) to `off` or `on`: an off mechanism takes no part in the embedded model's score, flag and quiet period"},
}

func keyTable(t *testing.T, prefix string, keys []string, docs map[string]keyDoc) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, k := range keys {
		d, ok := docs[k]
		if !ok {
			t.Errorf("%s%s: key has no entry in this test's docs: add its default and meaning", prefix, k)
			continue
		}
		fmt.Fprintf(&b, "| `%s%s` | %s | %s |\n", prefix, k, d.def, d.meaning)
	}
	for k := range docs {
		if !slices.Contains(keys, k) {
			t.Errorf("%s%s is documented but the file has no such key", prefix, k)
		}
	}
	return b.String()
}
