package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// fakeDetector scores value > 10 as an anomaly (score 0.9, else 0.1) from
// the model, answers NaN with a sample error, and drops the last drop
// verdicts of every response.
type fakeDetector struct {
	astraguardv1.UnimplementedDetectorServiceServer
	drop       int
	outOfOrder bool        // answer every sample with SAMPLE_ERROR_CODE_OUT_OF_ORDER
	ids        chan string // if set, receives every series id sent
	nanos      chan int64  // if set, receives every timestamp sent
}

var _ astraguardv1.DetectorServiceServer = (*fakeDetector)(nil)

func (f *fakeDetector) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		resp := &astraguardv1.DetectResponse{RequestId: req.GetRequestId()}
		for _, s := range req.GetSeries() {
			if f.ids != nil {
				select {
				case f.ids <- s.GetSeriesId():
				default:
				}
			}
			for i, v := range s.GetValues() {
				if f.nanos != nil {
					f.nanos <- s.GetUnixNanos()[i]
				}
				vd := fakeVerdict(s.GetSeriesId(), s.GetUnixNanos()[i], v)
				if f.outOfOrder {
					vd = &astraguardv1.Verdict{SeriesId: s.GetSeriesId(), UnixNanos: s.GetUnixNanos()[i], Error: &astraguardv1.SampleError{
						Code: astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_OUT_OF_ORDER, Message: "timestamp is older than the series' last sample"}}
				}
				resp.Verdicts = append(resp.Verdicts, vd)
			}
		}
		resp.Verdicts = resp.Verdicts[:max(0, len(resp.Verdicts)-f.drop)]
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

func fakeVerdict(id string, nanos int64, v float64) *astraguardv1.Verdict {
	out := &astraguardv1.Verdict{SeriesId: id, UnixNanos: nanos}
	switch {
	case math.IsNaN(v):
		out.Error = &astraguardv1.SampleError{Code: astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_NOT_FINITE, Message: "value is not finite, really"}
	case v > 10:
		out.Score, out.Anomaly, out.Source = 0.9, true, astraguardv1.Source_SOURCE_MODEL
		out.Mechanism = astraguardv1.Mechanism_MECHANISM_SHIFT
		out.Expected = &astraguardv1.Expectation{Value: 5, Lower: 1.5, Upper: 8.5}
	default:
		out.Score, out.Source = 0.1, astraguardv1.Source_SOURCE_HEURISTIC
		out.FallbackReason = astraguardv1.FallbackReason_FALLBACK_REASON_WARMING_UP
	}
	return out
}

// writeInput writes a NAB-style file of n rows under dir and returns the
// result rows the fake should produce for it, header first.
func writeInput(t *testing.T, dir, rel string, n int) []string {
	t.Helper()
	in := []string{"timestamp,value"}
	want := []string{strings.Join(outputHeader, ",")}
	start := time.Date(2014, 4, 10, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ts := start.Add(time.Duration(i) * 5 * time.Minute).Format("2006-01-02 15:04:05")
		val := fmt.Sprint(i % 13)
		row := ts + "," + val + ","
		switch {
		case i == 7:
			val = "NaN"
			row = ts + "," + val + `,0,0,none,"value is not finite, really",,,,`
		case i%13 > 10:
			row += "0.9,1,model,,shift,5,1.5,8.5"
		default:
			row += "0.1,0,heuristic,warming_up,,,,"
		}
		in = append(in, ts+","+val)
		want = append(want, row)
	}
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Join(in, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return want
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestReplay(t *testing.T) {
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "results")
	files := map[string][]string{
		"realKnownCause/machine_temp.csv": writeInput(t, data, "realKnownCause/machine_temp.csv", 1234),
		"top.csv":                         writeInput(t, data, "top.csv", 3),
	}
	c, _, stderr := newTestCLI(t, map[string]string{"AGCTL_ADDR": testAddr}, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{})
	})
	// Row 7 of every file is NaN, answered with a sample error.
	args := []string{"replay", "--data", data, "--out", out, "--batch", "100", "--window", "3", "--parallel", "2", "--allow-errors"}
	if err := c.run(t.Context(), args); err != nil {
		t.Fatalf("replay = %v; stderr:\n%s", err, stderr)
	}
	for rel, want := range files {
		if diff := cmp.Diff(want, readLines(t, filepath.Join(out, rel))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", rel, diff)
		}
	}
	if !strings.Contains(stderr.String(), "replayed 2/2 files, 1237 rows") {
		t.Errorf("stderr = %q, want a summary of 2 files and 1237 rows", stderr)
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, "*", ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temp files left behind: %v", leftovers)
	}
}

func TestReplayPaced(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	want := writeInput(t, data, "a/b.csv", 20) // 5-minute gaps, 95 minutes in all
	c, _, stderr := newTestCLI(t, nil, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{})
	})
	// 1e6x real time replays the 95 minutes in about 6 ms.
	args := []string{"replay", "--addr", testAddr, "--data", data, "--out", out, "--speed", "1e6", "--allow-errors"}
	if err := c.run(t.Context(), args); err != nil {
		t.Fatalf("replay = %v; stderr:\n%s", err, stderr)
	}
	if diff := cmp.Diff(want, readLines(t, filepath.Join(out, "a/b.csv"))); diff != "" {
		t.Errorf("a/b.csv (-want +got):\n%s", diff)
	}
}

func TestReplayMissingVerdicts(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	writeInput(t, data, "a/b.csv", 250)
	c, _, stderr := newTestCLI(t, nil, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{drop: 1})
	})
	err := c.run(t.Context(), []string{"replay", "--addr", testAddr, "--data", data, "--out", out, "--batch", "100"})
	if exitCodeOf(err) != 1 || !strings.Contains(err.Error(), "99 verdicts for 100 samples") {
		t.Fatalf("replay against a fake that drops verdicts = %v, want exit 1 naming the short response", err)
	}
	if _, err := os.Stat(filepath.Join(out, "a/b.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output of a failed file exists (stat: %v), want none", err)
	}
	if !strings.Contains(stderr.String(), "failed files 1") {
		t.Errorf("stderr = %q, want the summary to count the failed file", stderr)
	}
}

func TestReplayBadInput(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	writeInput(t, data, "good.csv", 5)
	if err := os.WriteFile(filepath.Join(data, "bad.csv"), []byte("timestamp,value\n2014-04-10 00:00:00,1\nnope,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, _ := newTestCLI(t, nil, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{})
	})
	err := c.run(t.Context(), []string{"replay", "--addr", testAddr, "--data", data, "--out", out})
	if exitCodeOf(err) != 1 || !strings.Contains(err.Error(), `bad.csv:3: unparseable timestamp "nope"`) {
		t.Fatalf("replay of a bad file = %v, want exit 1 naming bad.csv:3", err)
	}
	if _, err := os.Stat(filepath.Join(out, "good.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("good.csv was replayed (stat: %v), want nothing sent when any input is bad", err)
	}
}

// TestReplayCadence restamps the rows: the fake service must receive, and
// the output must show, row i at the first row's time plus i minutes,
// whatever the file's own 5-minute spacing.
func TestReplayCadence(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	want := writeInput(t, data, "a/b.csv", 20)
	sent := make(chan int64, 100)
	c, _, stderr := newTestCLI(t, nil, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{nanos: sent})
	})
	args := []string{"replay", "--addr", testAddr, "--data", data, "--out", out, "--cadence", "1m", "--allow-errors"}
	if err := c.run(t.Context(), args); err != nil {
		t.Fatalf("replay = %v; stderr:\n%s", err, stderr)
	}
	start := time.Date(2014, 4, 10, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		at := start.Add(time.Duration(i) * time.Minute)
		if got := <-sent; got != at.UnixNano() {
			t.Fatalf("row %d sent at %v, want %v", i, time.Unix(0, got).UTC(), at)
		}
		_, rest, _ := strings.Cut(want[i+1], ",")
		want[i+1] = at.Format("2006-01-02 15:04:05") + "," + rest
	}
	if diff := cmp.Diff(want, readLines(t, filepath.Join(out, "a/b.csv"))); diff != "" {
		t.Errorf("a/b.csv (-want +got):\n%s", diff)
	}
}

func TestReplayCadenceRefused(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	writeInput(t, data, "a/b.csv", 3)
	c, _, _ := newTestCLI(t, nil, func(s *grpc.Server) {
		astraguardv1.RegisterDetectorServiceServer(s, &fakeDetector{})
	})
	err := c.run(t.Context(), []string{"replay", "--addr", testAddr, "--data", data, "--out", out, "--cadence", "-1s"})
	if exitCodeOf(err) != 2 {
		t.Errorf("--cadence -1s = %v (exit %d), want a usage error", err, exitCodeOf(err))
	}
	err = c.run(t.Context(), []string{"replay", "--addr", testAddr, "--data", data, "--out", out, "--cadence", "2000000h"})
	if err == nil || !strings.Contains(err.Error(), "past the year 2262") {
		t.Errorf("--cadence past the nanosecond range = %v, want refused", err)
	}
}
