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

// TestCadenceTablePerPath: -cadence prints the table of the path -detector
// names; the heuristic's differs from the model's.
func TestCadenceTablePerPath(t *testing.T) {
	var m, h strings.Builder
	if err := run(t.Context(), []string{"-cadence"}, &m); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"-cadence", "-detector", "heuristic"}, &h); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), "false/day") || m.String() == h.String() {
		t.Errorf("heuristic table %q, model table %q: want two different tables", h.String(), m.String())
	}
}
