package server

import (
	"os"
	"regexp"
	"slices"
	"strconv"
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

// TestREADMEResponseBound: the README's per-sample response bound and the
// request sizes it allows are the ones responseBound uses (it said 73
// bytes and 49,000 samples after policy names, 64 bytes, joined every
// verdict and took the bound to 174).
func TestREADMEResponseBound(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(b)), " ")
	num := func(pattern string) int64 {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("README: no match for %q", pattern)
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const msg = 4 << 20
	if got, want := num(`per sample (\d+) bytes plus the series id`), verdictBound(12)-12; got != want {
		t.Errorf("README per-sample bound = %d, want %d", got, want)
	}
	if got, want := num(`(\d+) bytes for ids of 128 bytes or more`), verdictBound(256)-256; got != want {
		t.Errorf("README per-sample bound for long ids = %d, want %d", got, want)
	}
	if got, want := num(`about ([\d,]+) under a 12-byte id`), msg/verdictBound(12); got > want || got < want*99/100 {
		t.Errorf("README samples under a 12-byte id = %d, want about %d", got, want)
	}
	if got, want := num(`([\d,]+) under a 256-byte id`), msg/verdictBound(256); got != want {
		t.Errorf("README samples under a 256-byte id = %d, want %d", got, want)
	}
}
