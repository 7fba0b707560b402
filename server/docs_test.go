package server

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// backticked returns the `words` of the parenthesised list that follows
// the first occurrence of after in the file at path.
func backticked(t *testing.T, path, after string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, after)
	if i < 0 {
		t.Fatalf("%s: %q not found", path, after)
	}
	rest := doc[i+len(after):]
	open := strings.IndexAny(rest, "(=")
	end := strings.Index(rest[open:], ")")
	if rest[open] == '=' { // a table cell: "`reason` = `a`, `b` | ..."
		end = strings.Index(rest[open:], "|")
	}
	if open < 0 || end < 0 {
		t.Fatalf("%s: no list after %q", path, after)
	}
	var words []string
	for _, m := range regexp.MustCompile("`([A-Za-z_]+)`").FindAllStringSubmatch(rest[open:open+end], -1) {
		words = append(words, m[1])
	}
	slices.Sort(words)
	return words
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestDocsListWhatTheCodeProduces: the enum values and metric label values
// the docs list are exactly those the service produces: fallback reasons
// (API enum and metric label) and the limit label of
// astraguard_limit_rejections_total.
func TestDocsListWhatTheCodeProduces(t *testing.T) {
	var enum, labels []string
	for v, name := range astraguardv1.FallbackReason_name {
		if v != 0 {
			enum = append(enum, strings.TrimPrefix(name, "FALLBACK_REASON_"))
		}
	}
	for r := detector.ReasonBreakerOpen; r.String() != "unknown"; r++ {
		labels = append(labels, r.String())
	}
	var limits []string
	for _, l := range limitLabels {
		limits = append(limits, l)
	}
	readmeReasons := backticked(t, "../README.md", "`fallback_reason` when the heuristic answered")
	for i, r := range readmeReasons { // the README writes the first in full, the rest as _SUFFIX
		readmeReasons[i] = strings.TrimPrefix(strings.TrimPrefix(r, "FALLBACK_REASON"), "_")
	}
	for _, tc := range []struct {
		what      string
		got, want []string
	}{
		{"docs/api.md fallback reasons", backticked(t, "../docs/api.md", "the `fallback_reason` when the heuristic answered"), enum},
		{"README fallback reasons", sorted(readmeReasons), enum},
		{"docs/metrics.md fallback_samples reason labels", backticked(t, "../docs/metrics.md", "| `astraguard_anomaly_fallback_samples_total` |"), labels},
		{"docs/metrics.md limit labels", backticked(t, "../docs/metrics.md", "`astraguard_limit_rejections_total{limit}`"), limits},
		{"README limit labels", backticked(t, "../README.md", "`astraguard_limit_rejections_total{limit}`"), limits},
	} {
		if want := sorted(tc.want); !slices.Equal(tc.got, want) {
			t.Errorf("%s = %q, want %q (what the code produces)", tc.what, tc.got, want)
		}
	}
}
