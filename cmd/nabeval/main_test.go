package main

import (
	"io"
	"strings"
	"testing"
)

// TestConfigRefusesUnknownFields: a misspelt constant in -config is an
// error, not a run at the defaults.
func TestConfigRefusesUnknownFields(t *testing.T) {
	for _, args := range [][]string{
		{"-synth", "-detector", "model", "-config", `{"Treshold": 0.9}`},
		{"-synth", "-detector", "heuristic", "-config", `{"Flag": 0.5} {"Flag": 0.6}`},
		{"-cadence", "-config", `{"Suppress": 1, "Nope": 2}`},
		{"-cadence", "-detector", "heuristic", "-config", `{"Suppress": 1}`},
	} {
		err := run(t.Context(), args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "config") {
			t.Errorf("run(%q) = %v, want a config error", args, err)
		}
	}
	if err := strictJSON([]byte(`{"Threshold": 0.9}`), &struct{ Threshold float64 }{}); err != nil {
		t.Errorf("strictJSON of a known field: %v", err)
	}
}

// TestCadenceTablePerPath: -cadence -detector heuristic runs the
// heuristic (its Config, not the model's, takes -config) and prints a row
// per cadence. The model's table is make eval's; it is not run here, since
// 13 days at 1 s take long under -race.
func TestCadenceTablePerPath(t *testing.T) {
	var h strings.Builder
	if err := run(t.Context(), []string{"-cadence", "-detector", "heuristic", "-config", `{"Quiet": 50}`}, &h); err != nil {
		t.Fatalf("heuristic table with a heuristic field: %v", err)
	}
	if rows := strings.Count(h.String(), "\n"); !strings.Contains(h.String(), "false/day") || rows != 5 {
		t.Errorf("heuristic table %q: want a header and 4 cadence rows", h.String())
	}
	if err := run(t.Context(), []string{"-cadence", "-detector", "heuristic", "-config", `{"Threshold": 0.9}`}, io.Discard); err == nil {
		t.Error("-cadence -detector heuristic took a model field: the model ran")
	}
}

// TestFlagsCheckedFirst: an unknown -detector and a -j outside [1, 64] are
// refused before any data is read. -cadence -detector nope ran the model's
// table, -j 100000000 started a goroutine per file slot until memory ran
// out, and -j 0 was taken as 2 silently.
func TestFlagsCheckedFirst(t *testing.T) {
	missing := t.TempDir() + "/missing"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-space-offline", "-detector", "nope", "-space", missing}, "-detector"},
		{[]string{"-cadence", "-detector", "modle", "-space", missing}, "-detector"},
		{[]string{"-space-offline", "-j", "0", "-space", missing}, "-j"},
		{[]string{"-space-offline", "-j", "-1", "-space", missing}, "-j"},
		{[]string{"-space-offline", "-j", "100000000", "-space", missing}, "-j"},
	} {
		err := run(t.Context(), tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error naming %s", tt.args, err, tt.want)
		}
	}
}
