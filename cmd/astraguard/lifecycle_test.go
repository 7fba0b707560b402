package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestSeriesChurnStaysBounded sends five times --max-series in distinct
// series ids through the real service: every sample is scored (no
// lock-out), the live count never exceeds the capacity, and every id past
// the capacity is counted as a capacity eviction.
func TestSeriesChurnStaysBounded(t *testing.T) {
	const capacity, perRequest, requests = 200, 50, 20 // 1,000 ids
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	addrs, done := startRun(t, ctx, &logs, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0",
		"--grace-period=2s", fmt.Sprint("--max-series=", capacity))
	conn := dialRun(t, addrs.GRPC)
	client := astraguardv1.NewDetectorServiceClient(conn)

	for r := range requests {
		req := &astraguardv1.DetectBatchRequest{}
		for i := range perRequest {
			id := fmt.Sprintf("pod-%05d/cpu", r*perRequest+i)
			req.Series = append(req.Series, &astraguardv1.SeriesSamples{SeriesId: id, Values: []float64{0.5, 0.6}})
		}
		resp, err := client.DetectBatch(ctx, req)
		if err != nil {
			t.Fatalf("request %d: DetectBatch() = %v", r, err)
		}
		if n := len(resp.GetVerdicts()); n != 2*perRequest {
			t.Fatalf("request %d: %d verdicts, want %d", r, n, 2*perRequest)
		}
		for _, v := range resp.GetVerdicts() {
			if v.GetError() != nil || v.GetSource() == astraguardv1.Source_SOURCE_UNSPECIFIED {
				t.Fatalf("request %d: verdict %v, want a scored sample", r, v)
			}
		}
		body := httpGet(t, "http://"+addrs.HTTP+"/metrics")
		if live := metric(t, body, "astraguard_series"); live > capacity {
			t.Fatalf("after request %d: astraguard_series = %v, want <= %d", r, live, capacity)
		}
	}
	body := httpGet(t, "http://"+addrs.HTTP+"/metrics")
	if live := metric(t, body, "astraguard_series"); live != capacity {
		t.Errorf("astraguard_series = %v, want %d", live, capacity)
	}
	if got, want := metric(t, body, `astraguard_series_evicted_total{reason="capacity"}`), float64(requests*perRequest-capacity); got != want {
		t.Errorf(`astraguard_series_evicted_total{reason="capacity"} = %v, want %v`, got, want)
	}
	if got := metric(t, body, `astraguard_series_evicted_total{reason="ttl"}`); got != 0 {
		t.Errorf(`astraguard_series_evicted_total{reason="ttl"} = %v, want 0`, got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run() = %v after shutdown", err)
	}
}

// metric returns the value of the exposition line for name (with its
// labels, if any).
func metric(t *testing.T, body, name string) float64 {
	t.Helper()
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics lacks %s", name)
	return 0
}

func TestParseLifecycleFlags(t *testing.T) {
	env := map[string]string{"ASTRAGUARD_SERIES_TTL": "2h", "ASTRAGUARD_MAX_CLOCK_SKEW": "3s"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := parseConfig([]string{"--max-series=7"}, lookup, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig() = %v", err)
	}
	if cfg.maxSeries != 7 || cfg.seriesTTL != 2*time.Hour || cfg.maxClockSkew != 3*time.Second {
		t.Errorf("config = %d, %v, %v; want 7, 2h, 3s", cfg.maxSeries, cfg.seriesTTL, cfg.maxClockSkew)
	}
	def, err := parseConfig(nil, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig(defaults) = %v", err)
	}
	if def.maxSeries != 100_000 || def.seriesTTL != 24*time.Hour || def.maxClockSkew != 10*time.Second {
		t.Errorf("defaults = %d, %v, %v; want 100000, 24h, 10s", def.maxSeries, def.seriesTTL, def.maxClockSkew)
	}
	for _, args := range [][]string{{"--max-series=0"}, {"--series-ttl=-1s"}, {"--max-clock-skew=0s"}} {
		if _, err := parseConfig(args, lookup, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) error = nil, want one", args)
		}
	}
}
