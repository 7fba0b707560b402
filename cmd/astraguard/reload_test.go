package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // atomic, as a deploy tool writes
		t.Fatal(err)
	}
}

// TestConfigPrecedence: flag, then environment, then file, then default,
// for flag keys and for the model breaker's settings.
func TestConfigPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, path, `grpc_addr: 127.0.0.1:3
model_timeout: 300ms
max_series: 77
breakers:
  model:
    preset: strict
    failure_threshold: 4
    count_window: {size: 25, failure_ratio: 0.56}
`)
	env := map[string]string{"ASTRAGUARD_MODEL_TIMEOUT": "200ms", "ASTRAGUARD_GRPC_ADDR": "127.0.0.1:2"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := parseConfig([]string{"--config", path, "--grpc-addr=127.0.0.1:1", "--success-threshold=3"}, lookup, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig = %v", err)
	}
	if cfg.grpcAddr != "127.0.0.1:1" || cfg.modelTimeout != 200*time.Millisecond || cfg.maxSeries != 77 || cfg.logFormat != "json" {
		t.Errorf("grpc %q timeout %v series %d format %q, want flag 127.0.0.1:1, env 200ms, file 77, default json",
			cfg.grpcAddr, cfg.modelTimeout, cfg.maxSeries, cfg.logFormat)
	}
	s, err := breakerSettings(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.FailureThreshold != 4 || s.RecoveryTimeout != 10*time.Second || s.SuccessThreshold != 3 ||
		s.CountWindow.Size != 25 || s.CountWindow.FailureRatio != 0.56 {
		t.Errorf("breakerSettings = %+v, want strict's 10s, the file's 4 and window, the flag's 3", s)
	}
	env["ASTRAGUARD_BREAKER_PRESET"] = "lenient"
	cfg, err = parseConfig([]string{"--config", path}, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := breakerSettings(cfg); s.RecoveryTimeout != 60*time.Second || s.SuccessThreshold != 3 {
		t.Errorf("breakerSettings = %+v, want the environment's lenient preset over the file's strict", s)
	}
}

// TestConfigFileInvalid: every bad value is an error with key and line,
// never a silent default.
func TestConfigFileInvalid(t *testing.T) {
	tests := []struct{ src, want string }{
		{"model_timeout: -1s\n", ":1: model_timeout: must not be negative"},
		{"max_series: 10\nmodel_timeout: soon\n", `:2: model_timeout: want a duration such as "1m30s"`},
		{"max_series: lots\n", ":1: max_series: want a whole number"},
		{"grpc_addr: x\nbogus: 1\n", ":2: bogus: unknown key"},
		{"breaker_preset: strict\n", ":1: breaker_preset: unknown key"}, // the file form is breakers.model.preset
		{"breakers:\n  db: {}\n", ":2: breakers.db: unknown breaker"},
		{"breakers:\n  model:\n    time_window: {length: 1m, min_calls: -1}\n", ":3: breakers.model.time_window.min_calls"},
		{"model_timeout: 0s\n", ":1: model_timeout: must not be 0: leave it unset for the default 100ms"},
		{"tls_cert: /nonexistent/cert.pem\n", "--tls-cert and --tls-key go together"},
		{"policies:\n  - name: all\n    match: ['*']\n  - name: v\n    match: ['*/voltage']\n", ":4: policies[1]: unreachable"},
		{"policies:\n  - name: a\n    match: ['sat1/*']\n  - name: b\n    match: [sat1/voltage]\n", ":4: policies[1]: glob \"sat1/voltage\" is already matched"},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "bad.yaml")
		writeFile(t, path, tt.src)
		cfg, err := parseConfig([]string{"--config", path}, func(string) (string, bool) { return "", false }, io.Discard)
		if err == nil {
			_, err = breakerSettings(cfg)
		}
		if err == nil {
			_, _, err = policies(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("config %q: error %v, want it to contain %q", tt.src, err, tt.want)
		}
	}
}

// TestCheckConfig runs --check-config on the shipped examples and on a bad
// file.
func TestCheckConfig(t *testing.T) {
	examples, _ := filepath.Glob("../../examples/config/*.yaml")
	if len(examples) == 0 {
		t.Fatal("no examples/config/*.yaml")
	}
	for _, ex := range examples {
		var out strings.Builder
		if err := run(t.Context(), []string{"--config", ex, "--check-config"}, &out); err != nil || !strings.Contains(out.String(), "configuration valid") {
			t.Errorf("--check-config %s = %v, %q, want valid", ex, err, out.String())
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "breakers:\n  model:\n    count_window: {size: 10, failure_ratio: 2}\n")
	if err := run(t.Context(), []string{"--config", bad, "--check-config"}, io.Discard); err == nil || !strings.Contains(err.Error(), ":3: breakers.model.count_window.failure_ratio") {
		t.Errorf("--check-config bad = %v, want the key and line", err)
	}
}

// waitLog waits for a log line containing every part, written after the
// log had mark bytes (0: any line).
func waitLog(t *testing.T, logs *syncBuffer, mark int, parts ...string) {
	t.Helper()
	timeout := time.After(20 * time.Second) // bounds a broken test; not a timing assertion
	for {
		changed := logs.Changed()
		for line := range strings.Lines(logs.String()[mark:]) {
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
				return
			}
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no log line with %q; logs:\n%s", parts, logs.String())
		}
	}
}

func postReload(t *testing.T, httpAddr string) (int, reloadResult) {
	t.Helper()
	resp, err := http.Post("http://"+httpAddr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res reloadResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatalf("decode /-/reload: %v", err)
	}
	return resp.StatusCode, res
}

func metricLine(t *testing.T, httpAddr, prefix string) string {
	t.Helper()
	for line := range strings.Lines(httpGet(t, "http://"+httpAddr+"/metrics")) {
		if strings.HasPrefix(line, prefix) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TestReload covers reload on file change, via POST /-/reload and on
// SIGHUP, a bad file keeping the last good configuration, the metrics, and
// settings that need a restart being reported and not applied.
func TestReload(t *testing.T) {
	path, _, logs, addrs, finish := startConfigRun(t, "log_level: info\n")

	// A file change: the log level applies live, a new listen address
	// needs a restart.
	writeFile(t, path, "log_level: debug\nmax_series: 5\n")
	waitLog(t, logs, 0, `"msg":"config reloaded"`, `"trigger":"file"`, `"applied":["log-level"]`, `"needs_restart":["max-series"]`)

	// A bad file: the reload fails, says why, and the last good
	// configuration stays.
	mark := len(logs.String())
	writeFile(t, path, "log_level: debug\nmax_series: -5\n")
	waitLog(t, logs, mark, `"msg":"config reload failed`, `"trigger":"file"`, `max_series: must not be negative`)
	code, res := postReload(t, addrs.HTTP)
	if code != http.StatusBadRequest || res.Success || !strings.Contains(res.Error, ":2: max_series: must not be negative") {
		t.Errorf("POST /-/reload on a bad file = %d %+v, want 400 with the key and line", code, res)
	}
	if got := metricLine(t, addrs.HTTP, "astraguard_config_last_reload_successful "); got != "astraguard_config_last_reload_successful 0" {
		t.Errorf("metric %q, want 0 after a failed reload", got)
	}
	if got := metricLine(t, addrs.HTTP, `astraguard_config_reloads_total{result="failure"}`); got != `astraguard_config_reloads_total{result="failure"} 2` {
		t.Errorf("metric %q, want 2 failures", got)
	}
	// The debug level of the last good configuration is still on.
	if !strings.Contains(logs.String(), `"level":"DEBUG"`) && !strings.Contains(logs.String(), `"log-level"`) {
		t.Errorf("no sign of the applied debug level")
	}

	// Fixed in place (not renamed), reloaded on change, then by signal.
	mark = len(logs.String())
	if err := os.WriteFile(path, []byte("log_level: info\nmax_series: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, mark, `"trigger":"file"`, `"applied":["log-level"]`)
	mark = len(logs.String())
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, mark, `"msg":"config reloaded"`, `"trigger":"signal"`, `"applied":[]`, `"needs_restart":["max-series"]`)
	code, res = postReload(t, addrs.HTTP)
	if code != http.StatusOK || !res.Success || len(res.Applied) != 0 || !slices.Equal(res.NeedsRestart, []string{"max-series"}) {
		t.Errorf("POST /-/reload = %d %+v, want 200, nothing new to apply, max-series still needing a restart", code, res)
	}
	if got := metricLine(t, addrs.HTTP, "astraguard_config_last_reload_successful "); got != "astraguard_config_last_reload_successful 1" {
		t.Errorf("metric %q, want 1", got)
	}
	finish()
}

// TestReloadBreakerSettings: a reload applies the model breaker's new
// settings live, and the operator's override survives it.
func TestReloadBreakerSettings(t *testing.T) {
	path, ctx, logs, addrs, finish := startConfigRun(t, "breakers:\n  model:\n    preset: balanced\n")
	conn := dialRun(t, addrs.GRPC)
	admin := astraguardv1.NewBreakerAdminClient(conn)
	if _, err := admin.ForceBreaker(ctx, &astraguardv1.ForceBreakerRequest{Name: "model",
		Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "maintenance", Ttl: durationpb.New(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "breakers:\n  model:\n    preset: balanced\n    count_window: {size: 25, failure_ratio: 0.56}\n    backoff: {multiplier: 2}\n")
	waitLog(t, logs, 0, `"msg":"config reloaded"`, `"applied":["breakers.model"]`)
	resp, err := admin.GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: "model"})
	if err != nil {
		t.Fatal(err)
	}
	b := resp.GetBreaker()
	s := b.GetSettings()
	if s.GetCountWindow().GetSize() != 25 || s.GetCountWindow().GetFailureRatio() != 0.56 || s.GetBackoff().GetMultiplier() != 2 ||
		s.GetFailureThreshold() != 5 {
		t.Errorf("GetBreaker settings = %v, want the reloaded count window and backoff over balanced", s)
	}
	if b.GetOverride() != astraguardv1.Override_OVERRIDE_FORCED_OPEN || b.GetOverrideReason() != "maintenance" {
		t.Errorf("GetBreaker override = %v %q, want the forced open kept across the reload", b.GetOverride(), b.GetOverrideReason())
	}
	finish()
}

// TestReloadPolicies: the shipped default policy matches channels
// case-insensitively, a verdict names its policy, and a reload swaps the
// policies live.
func TestReloadPolicies(t *testing.T) {
	path, ctx, logs, addrs, finish := startConfigRun(t, "")
	conn := dialRun(t, addrs.GRPC)
	client := astraguardv1.NewDetectorServiceClient(conn)
	detect := func(id string, v float64) *astraguardv1.Verdict {
		t.Helper()
		resp, err := client.DetectBatch(ctx, &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: id, Values: []float64{v}}}})
		if err != nil || len(resp.GetVerdicts()) != 1 {
			t.Fatalf("DetectBatch(%s) = %v, %v", id, resp, err)
		}
		return resp.GetVerdicts()[0]
	}
	if v := detect("x/VOLTAGE", 100); !v.GetLimitViolation() || !v.GetAnomaly() || v.GetPolicy() != "voltage" {
		t.Errorf("x/VOLTAGE=100 under the default policy = %v, want a violation of policy voltage", v)
	}
	writeFile(t, path, "policies:\n  - name: tank\n    match: ['*/pressure']\n    limits: {max: 5}\n")
	waitLog(t, logs, 0, `"msg":"config reloaded"`, `"applied":["policies"]`)
	if v := detect("x/VOLTAGE", 100); v.GetLimitViolation() || v.GetPolicy() != "" {
		t.Errorf("x/VOLTAGE=100 after the reload = %v, want no policy", v)
	}
	if v := detect("t/PRESSURE", 6); !v.GetLimitViolation() || v.GetPolicy() != "tank" {
		t.Errorf("t/PRESSURE=6 after the reload = %v, want a violation of policy tank", v)
	}
	finish()
}

// TestCheckConfigStateDirs: --check-config refuses a --state-dir or
// --handover-dir that exists and is not a directory, as start-up does; it
// said "configuration valid" for --state-dir /dev/null, and the service
// then failed at start. A directory not yet there is valid (start creates
// it) and is not created by the check.
func TestCheckConfigStateDirs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	writeFile(t, file, "")
	missing := filepath.Join(t.TempDir(), "not", "yet")
	for _, flag := range []string{"--state-dir", "--handover-dir"} {
		for _, bad := range []string{file, "/dev/null"} {
			err := run(t.Context(), []string{flag, bad, "--check-config"}, io.Discard)
			if err == nil || !strings.HasPrefix(err.Error(), flag) {
				t.Errorf("--check-config %s %s = %v, want an error naming %s", flag, bad, err, flag)
			}
		}
		var out strings.Builder
		if err := run(t.Context(), []string{flag, missing, "--check-config"}, &out); err != nil || !strings.Contains(out.String(), "configuration valid") {
			t.Errorf("--check-config %s %s (not yet there) = %v, %q, want valid", flag, missing, err, out.String())
		}
		if _, err := os.Stat(missing); err == nil {
			t.Errorf("--check-config %s created %s", flag, missing)
		}
	}
}
