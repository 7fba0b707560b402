package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProbeTimeoutAtLeastModelTimeout: a half-open probe is a model call,
// which may run for --model-timeout; a probe_timeout shorter than that
// would reclaim probes still running and count them failed. Written
// shorter it is refused at start and on reload, naming both settings (the
// model timeout by flag or by file key, as it was given); left to its
// default (recovery_timeout) it is raised to the model timeout.
func TestProbeTimeoutAtLeastModelTimeout(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	for _, tc := range []struct {
		name      string
		file      string // "": none
		args      []string
		wantErr   string        // "": valid
		wantProbe time.Duration // when valid
	}{
		{"shorter than the default model timeout", "breakers:\n  model:\n    probe_timeout: 50ms\n", nil,
			path + ":3: breakers.model.probe_timeout: 50ms shorter than --model-timeout 100ms: a probe still running would be reclaimed and counted as failed", 0},
		{"shorter than the flag", "breakers:\n  model:\n    probe_timeout: 1s\n", []string{"--model-timeout=2s"},
			path + ":3: breakers.model.probe_timeout: 1s shorter than --model-timeout 2s", 0},
		{"shorter than the file key", "model_timeout: 2s\nbreakers:\n  model:\n    probe_timeout: 1s\n", nil,
			path + ":4: breakers.model.probe_timeout: 1s shorter than model_timeout 2s", 0},
		{"equal", "breakers:\n  model:\n    probe_timeout: 2s\n", []string{"--model-timeout=2s"}, "", 2 * time.Second},
		{"default raised over a short recovery", "", []string{"--recovery-timeout=10ms"}, "", 100 * time.Millisecond},
		{"default raised over a preset", "", []string{"--breaker-preset=strict", "--model-timeout=30s"}, "", 30 * time.Second},
		{"default kept", "", nil, "", 0},
	} {
		args := tc.args
		if tc.file != "" {
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--config", path)
		}
		cfg, err := parseConfig(args, noEnv, io.Discard)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n")):
			t.Errorf("%s: %v, want one problem starting %q", tc.name, err, tc.wantErr)
		case err == nil && cfg.breaker.ProbeTimeout != tc.wantProbe:
			t.Errorf("%s: ProbeTimeout %v, want %v", tc.name, cfg.breaker.ProbeTimeout, tc.wantProbe)
		}
	}
	// A reload applies the file over the start's flags the same way, and
	// refuses it.
	base, err := parseFlags([]string{"--config", path, "--model-timeout=2s"}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = base.withFile([]byte("breakers:\n  model:\n    probe_timeout: 1s\n"))
	if want := path + ":3: breakers.model.probe_timeout: 1s shorter than --model-timeout 2s"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("reload: %v, want %q", err, want)
	}
}

// TestReloadProbeTimeoutFitsRunningModelTimeout: the model timeout is not
// live (a reload reports it as needing a restart), so the breaker settings
// a reload applies must fit the model timeout in force as well as the
// file's new one: a probe_timeout written between them is refused (the
// probes would run under the longer one until a restart), and a default
// probe timeout is raised to the longer one. On old main the first was
// applied and the second raised only to the file's new timeout.
func TestReloadProbeTimeoutFitsRunningModelTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte("model_timeout: 5s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start, err := parseConfig([]string{"--config", path}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r := &reloader{start: start}
	for _, tc := range []struct {
		name, file string
		wantErr    string        // "": valid
		wantProbe  time.Duration // when valid
	}{
		{"written between the two", "model_timeout: 100ms\nbreakers:\n  model:\n    probe_timeout: 1s\n",
			path + ":4: breakers.model.probe_timeout: 1s shorter than the model timeout in force 5s", 0},
		{"default raised to the one in force", "model_timeout: 100ms\nbreakers:\n  model:\n    recovery_timeout: 1s\n", "", 5 * time.Second},
		{"written above both", "model_timeout: 100ms\nbreakers:\n  model:\n    probe_timeout: 6s\n", "", 6 * time.Second},
		{"a longer new timeout still counts", "model_timeout: 10s\nbreakers:\n  model:\n    probe_timeout: 6s\n",
			path + ":4: breakers.model.probe_timeout: 6s shorter than model_timeout 10s", 0},
	} {
		next, err := r.load([]byte(tc.file))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: reload = %v, want valid", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
			t.Errorf("%s: reload = %v, want %q", tc.name, err, tc.wantErr)
		case err == nil && next.breaker.ProbeTimeout != tc.wantProbe:
			t.Errorf("%s: reloaded ProbeTimeout %v, want %v", tc.name, next.breaker.ProbeTimeout, tc.wantProbe)
		}
	}
}
