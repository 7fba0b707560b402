package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestReplayErrorVerdictsFail replays into a service that answers every
// sample with an error, as a second replay into one service does (every
// timestamp is then out of order): the results are written, and the command
// exits 1 unless --allow-errors.
func TestReplayErrorVerdictsFail(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	writeInput(t, data, "a.csv", 30)
	c, _, stderr := newTestCLI(t, nil, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{outOfOrder: true})
	})
	args := []string{"replay", "--addr", testAddr, "--data", data, "--out", out}
	err := c.run(t.Context(), args)
	if exitCodeOf(err) != 1 || !strings.Contains(err.Error(), "30 of 30 verdicts are sample errors") {
		t.Fatalf("replay answered only with errors = %v, want exit 1 counting 30 errors; stderr:\n%s", err, stderr)
	}
	lines := readLines(t, filepath.Join(out, "a.csv"))
	if len(lines) != 31 || !strings.HasSuffix(lines[1], ",0,0,none,timestamp is older than the series' last sample,,,,") {
		t.Errorf("output = %d lines, first row %q; want 30 rows naming the error", len(lines), lines[1])
	}
	if err := c.run(t.Context(), append(args, "--allow-errors", "--force")); err != nil {
		t.Errorf("replay --allow-errors = %v, want exit 0", err)
	}
}

// TestReplayRefusesExistingOutput: a second replay into the same --out
// sends nothing and leaves the first results alone unless --force.
func TestReplayRefusesExistingOutput(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	want := writeInput(t, data, "x/a.csv", 5)
	writeInput(t, data, "b.csv", 5)
	ids := make(chan string, 64)
	c, _, _ := newTestCLI(t, nil, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{ids: ids})
	})
	earlier := filepath.Join(out, "x", "a.csv")
	if err := os.MkdirAll(filepath.Dir(earlier), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(earlier, []byte("earlier results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"replay", "--addr", testAddr, "--data", data, "--out", out, "--allow-errors"}
	err := c.run(t.Context(), args)
	if exitCodeOf(err) != 2 || !strings.Contains(err.Error(), earlier) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("replay over existing output = %v, want exit 2 naming %s and --force", err, earlier)
	}
	if got := readLines(t, earlier); !cmp.Equal(got, []string{"earlier results"}) {
		t.Errorf("earlier output = %q, want it untouched", got)
	}
	if _, err := os.Stat(filepath.Join(out, "b.csv")); err == nil {
		t.Error("b.csv was written, want nothing replayed when any output exists")
	}
	if len(ids) != 0 {
		t.Errorf("%d series sent, want none", len(ids))
	}
	if err := c.run(t.Context(), append(args, "--force")); err != nil {
		t.Fatalf("replay --force = %v, want success", err)
	}
	if diff := cmp.Diff(want, readLines(t, earlier)); diff != "" {
		t.Errorf("x/a.csv after --force (-want +got):\n%s", diff)
	}
}

// TestReplayDataFile: --data naming one CSV replays that file as series
// "<name>" into OUT/<name>.csv; a missing path is refused clearly.
func TestReplayDataFile(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	want := writeInput(t, data, "sub/machine.csv", 12)
	writeInput(t, data, "sub/other.csv", 12)
	ids := make(chan string, 64)
	c, _, stderr := newTestCLI(t, nil, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{ids: ids})
	})
	file := filepath.Join(data, "sub", "machine.csv")
	if err := c.run(t.Context(), []string{"replay", "--addr", testAddr, "--data", file, "--out", out, "--allow-errors"}); err != nil {
		t.Fatalf("replay --data FILE = %v; stderr:\n%s", err, stderr)
	}
	if diff := cmp.Diff(want, readLines(t, filepath.Join(out, "machine.csv"))); diff != "" {
		t.Errorf("machine.csv (-want +got):\n%s", diff)
	}
	close(ids)
	for id := range ids {
		if id != "machine" {
			t.Errorf("series id sent = %q, want machine (only the named file)", id)
		}
	}
	err := c.run(t.Context(), []string{"replay", "--addr", testAddr, "--data", filepath.Join(data, "nope.csv"), "--out", t.TempDir()})
	if exitCodeOf(err) != 1 || !strings.Contains(err.Error(), "--data") || !strings.Contains(err.Error(), "nope.csv") {
		t.Errorf("replay --data MISSING = %v, want exit 1 naming --data and the path", err)
	}
	err = c.run(t.Context(), []string{"replay", "--addr", testAddr, "--data", file, "--out", filepath.Dir(file), "--force"})
	if exitCodeOf(err) != 2 {
		t.Errorf("replay --data FILE --out its own directory = %v, want a usage error (it would replace the input)", err)
	}
}
