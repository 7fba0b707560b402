package main

import (
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestREADMEModelVerdict replays the README's example CSV
// (examples/data/sat1-temperature.csv, 360 one-minute samples) through
// the real wiring with default flags, as `agctl replay` sends it: the
// first 300 samples are the model's warm-up (heuristic, WARMING_UP), the
// rest come from the model, and exactly one is an anomaly, the spike the
// README shows, flagged by the model as a new extreme.
func TestREADMEModelVerdict(t *testing.T) {
	f, err := os.Open("../../examples/data/sat1-temperature.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := &astraguardv1.SeriesSamples{SeriesId: "sat1-temperature"}
	for _, r := range rows[1:] {
		ts, err1 := time.Parse(time.DateTime, r[0])
		v, err2 := strconv.ParseFloat(r[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %q: %v %v", r, err1, err2)
		}
		s.UnixNanos, s.Values = append(s.UnixNanos, ts.UnixNano()), append(s.Values, v)
	}
	addrs := runService(t)
	conn := dialRun(t, addrs.GRPC)
	resp, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{s}})
	if err != nil {
		t.Fatal(err)
	}
	var model, warming int
	var anomalies []string
	for i, v := range resp.GetVerdicts() {
		switch {
		case v.GetSource() == astraguardv1.Source_SOURCE_MODEL:
			model++
		case v.GetFallbackReason() == astraguardv1.FallbackReason_FALLBACK_REASON_WARMING_UP:
			warming++
		}
		if v.GetAnomaly() {
			anomalies = append(anomalies, strings.Join([]string{rows[i+1][0], rows[i+1][1], strings.ToLower(strings.TrimPrefix(v.GetSource().String(), "SOURCE_")),
				strings.ToLower(strings.TrimPrefix(v.GetMechanism().String(), "MECHANISM_"))}, " "))
		}
	}
	if model != 60 || warming != 300 {
		t.Errorf("verdicts: %d from the model, %d warming up; want 60 and 300 (README)", model, warming)
	}
	want := "2026-11-01 05:45:00 27.50 model record"
	if len(anomalies) != 1 || anomalies[0] != want {
		t.Errorf("anomalies %q, want exactly [%q] (README)", anomalies, want)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"go run ./cmd/agctl replay --data examples/data/sat1-temperature.csv --out /tmp/ag-demo",
		"2026-11-01 05:45:00,27.50,1,1,model,,record",
	} {
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md lacks %q", line)
		}
	}
}

// TestDocsIndexLinksEveryPage: docs/README.md links every page of docs/,
// so none is an orphan.
func TestDocsIndexLinksEveryPage(t *testing.T) {
	index, err := os.ReadFile("../../docs/README.md")
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(pages) < 9 {
		t.Fatalf("docs pages: %v, %d", err, len(pages))
	}
	for _, p := range pages {
		name := filepath.Base(p)
		if name != "README.md" && !strings.Contains(string(index), "("+name+")") {
			t.Errorf("docs/README.md does not link %s", name)
		}
	}
}

// TestREADMEFirstScreen: the README opens with exactly two commands, the
// second the tests; .ci/run runs that command and make check; make run
// serves on the ports the README names.
func TestREADMEFirstScreen(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(readme), "```sh\n")
	block, _, _ := strings.Cut(rest, "```")
	var cmds []string
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, _, _ := strings.Cut(l, "#")
		cmds = append(cmds, strings.TrimSpace(cmd))
	}
	if len(cmds) != 2 || cmds[0] != "go run ./cmd/astraguard" || cmds[1] != "make test" {
		t.Fatalf("README's first commands = %q, want [go run ./cmd/astraguard, make test]", cmds)
	}
	for _, want := range []string{"C compiler", "-race requires cgo", "make check"} {
		if !strings.Contains(string(readme[:strings.Index(string(readme), "## ")]), want) {
			t.Errorf("README's first screen does not mention %q", want)
		}
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ci), "\n")
	if !slices.Contains(lines, cmds[1]) || !slices.Contains(lines, "make check") {
		t.Errorf(".ci/run runs %q, want the README's %q and make check", lines, cmds[1])
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := new(config).flagSet(io.Discard)
	for _, v := range []struct{ makeVar, flag string }{{"GRPC_ADDR", "grpc-addr"}, {"HTTP_ADDR", "http-addr"}} {
		m := regexp.MustCompile(`(?m)^` + v.makeVar + ` \?= \S*(:\d+)$`).FindSubmatch(mk)
		if m == nil || string(m[1]) != fs.Lookup(v.flag).DefValue {
			t.Errorf("Makefile %s = %q, want the port of --%s's default %s (the README's)", v.makeVar, m, v.flag, fs.Lookup(v.flag).DefValue)
		}
	}
	for _, check := range []string{"test-deploy", "envoy-check"} { // the suites make test ran before it was the developer's loop
		if !regexp.MustCompile(`(?m)^check: .*\b` + check + `\b`).Match(mk) {
			t.Errorf("make check does not run %s", check)
		}
	}
}
