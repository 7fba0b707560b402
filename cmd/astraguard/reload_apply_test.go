package main

import (
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestReloadAppliersAreTheLiveKeys: the appliers newApp gives the
// reloader are the settings the docs call live, each once.
func TestReloadAppliersAreTheLiveKeys(t *testing.T) {
	cfg, err := parseConfig([]string{"--grpc-addr=127.0.0.1:0", "--http-addr="}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(t.Context(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	got := map[string]bool{}
	for _, ap := range a.reloader.appliers {
		if got[ap.name] {
			t.Errorf("applier %q registered twice", ap.name)
		}
		got[ap.name] = true
	}
	if !maps.Equal(got, liveKeys) {
		t.Errorf("appliers %v, want liveKeys %v", got, liveKeys)
	}
}

// TestReloadReadsOnlyTheFile: a reload applies the file over the command
// line and environment as read at start; a variable changed since (a
// setting, the admin token) is not read again, so nothing is reported.
func TestReloadReadsOnlyTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, path, "max_series: 7\n")
	env := map[string]string{"ASTRAGUARD_MODEL_TIMEOUT": "200ms", adminTokenEnv: "first-admin-token-0123456789"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := parseConfig([]string{"--config", path, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r := newReloader(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	env["ASTRAGUARD_MODEL_TIMEOUT"], env[adminTokenEnv] = "300ms", "second-admin-token-0123456789"
	if res := r.reload("test", nil); !res.Success || len(res.NeedsRestart) != 0 {
		t.Errorf("reload after the environment changed = %+v, want success with nothing to restart", res)
	}
	writeFile(t, path, "max_series: 8\nmodel_timeout: 1s\n")
	// model_timeout stays the environment's 200ms: only max_series changed.
	if res := r.reload("test", nil); !res.Success || !slices.Equal(res.NeedsRestart, []string{"max-series"}) {
		t.Errorf("reload after the file changed = %+v, want max-series needing a restart", res)
	}
}

// TestReloadReportsEveryFlagKind: a changed max_concurrent_streams (a
// uint32 flag, once a Func flag whose value read back as "") is reported
// as needing a restart like any other key.
func TestReloadReportsEveryFlagKind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, path, "max_concurrent_streams: 100\n")
	cfg, err := parseConfig([]string{"--config", path, "--grpc-addr=127.0.0.1:0"}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.limits.MaxConcurrentStreams != 100 {
		t.Fatalf("MaxConcurrentStreams = %d, want the file's 100", cfg.limits.MaxConcurrentStreams)
	}
	r := newReloader(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	writeFile(t, path, "max_concurrent_streams: 200\n")
	if res := r.reload("test", nil); !res.Success || !slices.Equal(res.NeedsRestart, []string{"max-concurrent-streams"}) {
		t.Errorf("reload after max_concurrent_streams changed = %+v, want it needing a restart", res)
	}
}
