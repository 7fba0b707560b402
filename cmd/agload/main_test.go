package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/loadtest"
)

func TestTargetsFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    target
		wantErr bool
	}{
		{"echo,127.0.0.1:1,42", target{name: "echo", addr: "127.0.0.1:1", pid: 42}, false},
		{"m,127.0.0.1:1,42,breaker-open", target{name: "m", addr: "127.0.0.1:1", pid: 42, breakerOpen: true}, false},
		{"m,127.0.0.1:1,42,metrics=127.0.0.1:2,breaker-open", target{name: "m", addr: "127.0.0.1:1", pid: 42, breakerOpen: true, metricsAddr: "127.0.0.1:2"}, false},
		{"e,127.0.0.1:1,42,floor", target{name: "e", addr: "127.0.0.1:1", pid: 42, floor: true}, false},
		{"m,127.0.0.1:1", target{}, true},
		{"m,127.0.0.1:1,0", target{}, true},
		{"m,127.0.0.1:1,42,metrics=", target{}, true},
		{"m,127.0.0.1:1,42,open", target{}, true},
	}
	for _, tt := range tests {
		var f targetsFlag
		err := f.Set(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("Set(%q) = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && (len(f) != 1 || f[0] != tt.want) {
			t.Errorf("Set(%q) = %+v, want %+v", tt.in, f, tt.want)
		}
	}
}

func TestParseConfigSoak(t *testing.T) {
	var stderr bytes.Buffer
	base := []string{"-target", "m,127.0.0.1:1,42", "-soak"}
	if _, _, err := parseConfig(append(base, "-rate-fraction", "0.25"), &stderr); err != nil {
		t.Errorf("parseConfig(soak at 25%%) = %v", err)
	}
	for _, bad := range [][]string{{"-rate-fraction", "1"}, {"-rate-fraction", "-0.1"}, {"-sample-every", "0s"}} {
		if _, _, err := parseConfig(append(base, bad...), &stderr); err == nil {
			t.Errorf("parseConfig(%q) = nil error, want one", bad)
		}
	}
}

// TestParseConfigBounds: values that would size agload's own memory past
// reason, or that no run can use, are refused before anything starts. A
// -window of 100,000,000, -series of 200,000,000 or a request of 100,000
// series x 100,000 samples ran it out of memory; -clk-tck 0 failed only
// after the first phase and -rate-fraction NaN soaked at no rate.
func TestParseConfigBounds(t *testing.T) {
	var stderr bytes.Buffer
	base := []string{"-target", "m,127.0.0.1:1,42"}
	if _, _, err := parseConfig(append(base, "-window", "1024", "-streams", "10000", "-series", "1000000", "-series-per-request", "1000", "-samples-per-series", "100"), &stderr); err != nil {
		t.Errorf("parseConfig(at the bounds) = %v", err)
	}
	for _, bad := range [][]string{
		{"-window", "1025"},
		{"-window", "100000000"},
		{"-streams", "10001", "-series", "20000"},
		{"-series", "1000001"},
		{"-series", "200000000", "-streams", "1"},
		{"-series-per-request", "1001", "-samples-per-series", "100"},
		{"-series-per-request", "100000", "-samples-per-series", "100000"},
		{"-clk-tck", "0"},
		{"-ready-timeout", "-1s"},
		{"-soak", "-rate-fraction", "NaN"},
	} {
		if _, _, err := parseConfig(append(base, bad...), &stderr); err == nil {
			t.Errorf("parseConfig(%q) = nil error, want one", bad)
		}
	}
}

func TestPrintSoakFailsOnLostVerdicts(t *testing.T) {
	cfg := config{duration: time.Second, streams: 2, window: 4, series: 10, seriesPerReq: 2, samplesPerSer: 3}
	ok := soakRow{target: "m", phase: "saturated", rate: 100, peakRSS: 1 << 20, gStart: 10, gMax: 20, gEnd: 10,
		r: loadtest.Result{Sent: 60, Samples: 60, Latencies: []time.Duration{time.Millisecond}}}
	var out bytes.Buffer
	if err := printSoak(&out, cfg, []soakRow{ok}); err != nil {
		t.Errorf("printSoak(all answered) = %v", err)
	}
	if !strings.Contains(out.String(), "lost verdicts: 0") || !strings.Contains(out.String(), "10/20/10") {
		t.Errorf("printSoak(all answered) printed %q, want the goroutines and a zero lost count", out.String())
	}
	for name, r := range map[string]loadtest.Result{
		"lost":       {Sent: 60, Samples: 54, Lost: 6},
		"duplicated": {Sent: 60, Samples: 60, Duplicates: 1},
		"mismatched": {Sent: 60, Samples: 60, Mismatched: 1},
		"unanswered": {Sent: 60, Samples: 54},
		"errored":    {Sent: 60, Samples: 60, Errored: 1},
	} {
		bad := ok
		bad.r = r
		if err := printSoak(&out, cfg, []soakRow{ok, bad}); err == nil {
			t.Errorf("printSoak(%s) = nil error, want one", name)
		}
	}
}
