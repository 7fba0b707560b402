package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"google.golang.org/grpc"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/report"
)

// TestReplayReport replays two small files, one of them labelled, with
// --report and --labels, and checks the report's structure (not its
// pixels): self-contained (no script, nothing loaded), a summary row per
// series with flags, flags inside labels and per-mechanism counts, and a
// chart per series with its value line, band, flags and labelled window.
func TestReplayReport(t *testing.T) {
	data, out, dir := t.TempDir(), filepath.Join(t.TempDir(), "results"), t.TempDir()
	writeInput(t, data, "nab/machine.csv", 130) // flags where i%13 > 10: 20 flags, rows 11 and 12 first
	writeInput(t, data, "other.csv", 26)        // 4 flags, not labelled
	labels := filepath.Join(dir, "windows.json")
	// The first hour: rows 0..12, holding the flags of rows 11 and 12.
	if err := os.WriteFile(labels, []byte(`{"nab/machine.csv": [["2014-04-10 00:00:00.000000", "2014-04-10 01:00:00.000000"]], "x.csv": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	reportPath := filepath.Join(dir, "report.html")
	c, _, stderr := newTestCLI(t, map[string]string{"AGCTL_ADDR": testAddr}, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{})
	})
	args := []string{"replay", "--data", data, "--out", out, "--allow-errors", "--report", reportPath, "--labels", labels}
	if err := c.run(t.Context(), args); err != nil {
		t.Fatalf("replay = %v; stderr:\n%s", err, stderr)
	}
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range all(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		if n.Data == "script" || n.Data == "link" || n.Data == "img" || n.Data == "iframe" {
			t.Errorf("report has a <%s>: it must be self-contained", n.Data)
		}
		for _, a := range n.Attr {
			if a.Key == "src" || (a.Key == "href" && !strings.HasPrefix(a.Val, "#")) {
				t.Errorf("report loads or links %s=%q", a.Key, a.Val)
			}
		}
	}

	rows := all(doc, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-series") != "" })
	want := map[string][]string{ // flags, inside labels, windows hit, mechanism shift
		"nab/machine": {"20", "2 (10%)", "1 of 1", "20"},
		"other":       {"4", "–", "–", "4"},
	}
	if len(rows) != len(want) {
		t.Fatalf("summary rows = %d, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		w, ok := want[attr(r, "data-series")]
		if !ok {
			t.Errorf("summary row for unexpected series %q", attr(r, "data-series"))
			continue
		}
		mech := all(r, class("mech"))
		got := []string{text(first(r, class("flags"))), text(first(r, class("inside"))), text(first(r, class("hit"))), text(mech[0])}
		if strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("summary of %s = %q, want %q", attr(r, "data-series"), got, w)
		}
		if len(mech) != len(report.Mechanisms) {
			t.Errorf("summary of %s has %d mechanism columns, want %d", attr(r, "data-series"), len(mech), len(report.Mechanisms))
		}
	}

	figs := all(doc, func(n *html.Node) bool { return n.Data == "figure" })
	if len(figs) != 2 {
		t.Fatalf("charts = %d, want one per series", len(figs))
	}
	for _, f := range figs {
		id := attr(f, "data-series")
		flags, windows := len(all(f, class("flag"))), len(all(f, class("label")))
		wantFlags, wantWindows := 20, 1
		if id == "other" {
			wantFlags, wantWindows = 4, 0
		}
		if flags != wantFlags || windows != wantWindows {
			t.Errorf("chart of %s: %d flag marks and %d labelled windows, want %d and %d", id, flags, windows, wantFlags, wantWindows)
		}
		if first(f, class("value")) == nil || first(f, class("band")) == nil {
			t.Errorf("chart of %s lacks its value line or band", id)
		}
	}
	if !strings.Contains(stderr.String(), "report: "+reportPath) {
		t.Errorf("stderr = %q, want the report's path", stderr)
	}
	// A second run refuses to replace the report without --force.
	if err := c.run(t.Context(), append(args[:len(args):len(args)], "--out", filepath.Join(dir, "again"))); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second replay = %v, want a refusal to replace the report", err)
	}
}

func all(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if match(d) {
			out = append(out, d)
		}
	}
	return out
}

func first(n *html.Node, match func(*html.Node) bool) *html.Node {
	if found := all(n, match); len(found) > 0 {
		return found[0]
	}
	return nil
}

func class(c string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return n.Type == html.ElementNode && strings.Contains(" "+attr(n, "class")+" ", " "+c+" ")
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}
