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
