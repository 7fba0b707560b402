package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCadenceChecked: a cadence outside (0, 24h] is refused before any
// data is read; 0s and -60s replayed every channel with times standing
// still or running backwards and printed scores as if nothing were wrong.
func TestCadenceChecked(t *testing.T) {
	missing := t.TempDir() + "/missing"
	for _, c := range []string{"0s", "-60s", "60s,-1s", "25h"} {
		err := run([]string{"-data", missing, "-cadence", c}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "cadence") {
			t.Errorf("run(-cadence %s) = %v, want a cadence error", c, err)
		}
	}
}

// TestCeilingTable runs -ceiling on one synthetic channel (a sine whose
// test split steps up for 200 rows, labelled contextual): the tables are
// printed, kNN W=10 K=5 under telemanom's thresholding finds the step
// and nothing else, the online kNN rows and their cross-validation are
// there, and the model path's lines follow.
func TestCeilingTable(t *testing.T) {
	dir := t.TempDir()
	const nTrain, nTest = 1500, 2500
	meta := fmt.Sprintf(`[{"series": "S/x", "spacecraft": "S", "chan": "x", "n_train": %d, "n_test": %d,
		"anomaly_sequences": [[1800, 1999]], "class": "[contextual]"}]`, nTrain, nTest)
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("timestamp,value\n")
	t0 := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range nTrain + nTest {
		v := 0.5 * math.Sin(float64(i)/30)
		if i >= nTrain+1800 && i < nTrain+2000 {
			v += 0.4
		}
		fmt.Fprintf(&sb, "%s,%g\n", t0.Add(time.Duration(i)*time.Minute).Format("2006-01-02 15:04:05"), v)
	}
	if err := os.MkdirAll(filepath.Join(dir, "S"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "S", "x.csv"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run([]string{"-data", dir, "-ceiling"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| kNN W=10 K=5 | 1 | 0 | 0 | 1.000 | 1.000 | 1.000 | contextual 1/1 |",
		"| grouped CV over the offline predictors |",
		"| online kNN W=10 K=5, every window, float32 |",
		"| grouped CV over the budgeted online kNN |",
		"model path, own flags, 60 s: ",
		"flags on rows telemanom never judges removed: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
