package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// extremes are the values every numeric key is tried at, by kind.
var extremes = map[string][]string{
	"int":      {"0", "-1", "100000000000", "9223372036854775807", "-9223372036854775808"},
	"duration": {"0s", "-1ns", "1ns", "2562047h47m16.854775807s", "-2562047h47m16.854775808s"},
	"float":    {"0", "-1", "1e308", "NaN", "Inf", "-Inf"},
}

// TestConfigKeysAtExtremes walks every numeric key of the config file
// (every numeric flag) at its extreme values: each is refused with an
// error naming the file, line and key, or accepted and the service wired
// from it allocates a bounded amount. Never a crash or an out-of-memory.
// (The breakers section's keys are walked by the config package's
// TestBreakerKeysAtExtremes.)
func TestConfigKeysAtExtremes(t *testing.T) {
	fs, _ := new(config).flagSet(io.Discard)
	kinds := map[string]string{} // file key -> numeric kind
	fs.VisitAll(func(f *flag.Flag) {
		if k := numericKind(f); k != "" && !notFileKeys[f.Name] {
			kinds[fileKey(f.Name)] = k
		}
	})
	if len(kinds) < 25 {
		t.Fatalf("found %d numeric keys, want every numeric flag (at least 25): %v", len(kinds), kinds)
	}
	dir := t.TempDir()
	accepted := 0
	for key, kind := range kinds {
		for _, v := range extremes[kind] {
			path := filepath.Join(dir, "x.yaml")
			if err := os.WriteFile(path, []byte(fmt.Sprintf("# extreme\n%s: %s\n", key, v)), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := parseConfig([]string{"--config", path, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}, noEnv, io.Discard)
			if err != nil {
				if want := path + ":2: " + key + ": "; !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s: %s: error %q, want one problem starting %q", key, v, err, want)
				}
				continue
			}
			accepted++
			t.Logf("accepted %s: %s", key, v)
			// Accepted: wiring the service from it must allocate a bounded
			// amount (the defaults take a few MiB).
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			a, err := newApp(t.Context(), cfg, io.Discard)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Errorf("%s: %s: accepted by the configuration check but refused at start: %v", key, v, err)
				continue
			}
			a.close()
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
				t.Errorf("%s: %s: wiring the service allocated %d MiB", key, v, grew>>20)
			}
		}
	}
	if accepted == 0 {
		t.Errorf("no extreme value was accepted: the walk proved nothing about allocation")
	}
}

// numericKind is the kind of f's value that extremes lists, or "".
func numericKind(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "duration"
	case int, int64, uint, uint32, uint64:
		return "int"
	case float64:
		return "float"
	}
	return ""
}

func noEnv(string) (string, bool) { return "", false }

// TestHugeBreakerWindowRefused: --check-config and a reload (file change
// and POST /-/reload) of count_window.size 1e11, which was a fatal out of
// memory, are a clean error naming key and line; the running service
// keeps its last good configuration and keeps serving.
func TestHugeBreakerWindowRefused(t *testing.T) {
	huge := "breakers:\n  model:\n    count_window: {size: 100000000000, min_calls: 1, failure_ratio: 1}\n    time_window: {length: 1h, buckets: 1000000000}\n"
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, huge)
	err := run(t.Context(), []string{"--config", bad, "--check-config"}, io.Discard)
	want := []string{bad + ":3: breakers.model.count_window.size: 100000000000 outside [0, 1048576]",
		bad + ":4: breakers.model.time_window.buckets: 1000000000 outside [0, 1000]"}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("--check-config = %v, want exactly:\n%s", err, strings.Join(want, "\n"))
	}

	path, ctx, logs, addrs, finish := startConfigRun(t, "breakers:\n  model:\n    count_window: {size: 20}\n")
	writeFile(t, path, huge)
	waitLog(t, logs, 0, `"msg":"config reload failed`, `"trigger":"file"`, `count_window.size: 100000000000 outside`)
	code, res := postReload(t, addrs.HTTP)
	if code != http.StatusBadRequest || res.Success || !strings.Contains(res.Error, ":3: breakers.model.count_window.size") ||
		!strings.Contains(res.Error, ":4: breakers.model.time_window.buckets") {
		t.Errorf("POST /-/reload = %d %+v, want 400 naming both keys and lines", code, res)
	}
	conn := dialRun(t, addrs.GRPC)
	resp, err := astraguardv1.NewBreakerAdminClient(conn).GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: "model"})
	if err != nil || resp.GetBreaker().GetSettings().GetCountWindow().GetSize() != 20 {
		t.Errorf("GetBreaker after the refused reloads = %v, %v; want the last good count window of 20", resp, err)
	}
	if _, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(ctx, &astraguardv1.DetectBatchRequest{
		Series: []*astraguardv1.SeriesSamples{{SeriesId: "s", Values: []float64{1}}}}); err != nil {
		t.Errorf("DetectBatch after the refused reloads = %v, want served", err)
	}
	finish()
}

// TestReloadTruncatedFileKeepsPolicies: a config file rewritten in place,
// truncated and written again later, never applies the default policies
// in between: no verdict is judged by a policy the operator's files do
// not hold, and the empty file that stays is a warning that keeps the
// last good configuration.
func TestReloadTruncatedFileKeepsPolicies(t *testing.T) {
	path, ctx, logs, addrs, finish := startConfigRun(t, "policies:\n  - name: tank\n    match: ['*/pressure']\n    limits: {max: 5}\n")
	conn := dialRun(t, addrs.GRPC)
	client := astraguardv1.NewDetectorServiceClient(conn)
	// Judge a voltage channel all along: only the default policies know it.
	var judged, byDefault atomic.Int64
	stop := make(chan struct{})
	probing := make(chan struct{})
	go func() {
		defer close(probing)
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := client.DetectBatch(ctx, &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "x/voltage", Values: []float64{100}}}})
			if err != nil {
				continue
			}
			judged.Add(1)
			if p := resp.GetVerdicts()[0].GetPolicy(); p != "" && p != "tank" && p != "tank2" {
				byDefault.Add(1)
			}
		}
	}()

	mark := len(logs.String())
	if err := os.Truncate(path, 0); err != nil { // an editor or a script rewriting in place
		t.Fatal(err)
	}
	waitLog(t, logs, mark, `"level":"WARN"`, `"msg":"config reload skipped"`, `the config file is empty`)
	if err := os.WriteFile(path, []byte("policies:\n  - name: tank2\n    match: ['*/pressure']\n    limits: {max: 6}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, mark, `"msg":"config reloaded"`, `"applied":["policies"]`)
	close(stop)
	<-probing
	if n := strings.Count(logs.String()[mark:], `"msg":"config reloaded"`); n != 1 {
		t.Errorf("%d reloads applied, want 1 (the complete file only); logs:\n%s", n, logs.String()[mark:])
	}
	t.Logf("%d of %d verdicts judged by a default policy", byDefault.Load(), judged.Load())
	if judged.Load() == 0 || byDefault.Load() != 0 {
		t.Errorf("%d of %d verdicts judged by a default policy, want none", byDefault.Load(), judged.Load())
	}
	code, res := postReload(t, addrs.HTTP)
	if code != http.StatusOK || !res.Success {
		t.Errorf("POST /-/reload of the complete file = %d %+v, want 200", code, res)
	}
	finish()
}

// TestReloadEmptyAtStartStaysAllowed: with --config empty at start, an
// empty file is what the operator meant, and a reload of it succeeds.
func TestReloadEmptyAtStartStaysAllowed(t *testing.T) {
	_, _, _, addrs, finish := startConfigRun(t, "")
	if code, res := postReload(t, addrs.HTTP); code != http.StatusOK || !res.Success {
		t.Errorf("POST /-/reload of a file empty since start = %d %+v, want 200", code, res)
	}
	finish()
}

// TestCheckConfigReportsEveryProblem: every problem of a file at once, in
// line order, each on its own line with one format, and the nearest key
// for a misspelt one.
func TestCheckConfigReportsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, path, `log_levle: debug
model_timeout: -1s
series_ttl: -1h
max_series: 100000000000
breakers:
  model:
    max_probes: 300
    backoff: {jitter: 1}
rate_limit: NaN
grpc_adr: x
policies:
  - name: a
    match: [x]
    threshold: 2
`)
	err := run(t.Context(), []string{"--config", path, "--check-config"}, io.Discard)
	want := []string{
		":1: log_levle: unknown key (did you mean log_level?)",
		":2: model_timeout: must not be negative",
		":3: series_ttl: must not be negative",
		":4: max_series: 100000000000 outside [0, 2147483647]",
		":7: breakers.model.max_probes: 300 outside [0, 255]",
		":8: breakers.model.backoff.jitter: 1 outside [0, 1)",
		":9: rate_limit: NaN outside [0, 1e+12]",
		":10: grpc_adr: unknown key (did you mean grpc_addr?)",
		":14: policies[0].threshold:",
	}
	if err == nil {
		t.Fatal("--check-config of a bad file = nil")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("--check-config reported %d problems, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], path+w) {
			t.Errorf("problem %d = %q, want %q", i+1, lines[i], path+w)
		}
	}
}
