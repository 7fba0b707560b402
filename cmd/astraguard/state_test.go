package main

import (
	"io"
	"testing"
	"time"
)

func TestStateFlags(t *testing.T) {
	env := map[string]string{"ASTRAGUARD_STATE_DIR": "/var/lib/astraguard", "ASTRAGUARD_CHECKPOINT_INTERVAL": "5s"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := parseConfig(nil, lookup, io.Discard)
	if err != nil || cfg.stateDir != "/var/lib/astraguard" || cfg.checkpointInterval != 5*time.Second {
		t.Errorf("parseConfig from env = %q every %v, %v; want /var/lib/astraguard every 5s", cfg.stateDir, cfg.checkpointInterval, err)
	}
	cfg, err = parseConfig(nil, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil || cfg.stateDir != "" || cfg.checkpointInterval != 30*time.Second {
		t.Errorf("defaults = %q every %v, %v; want off, 30s", cfg.stateDir, cfg.checkpointInterval, err)
	}
	if _, err := parseConfig([]string{"--checkpoint-interval=0s"}, lookup, io.Discard); err == nil {
		t.Error("--checkpoint-interval=0s accepted")
	}
}

func TestHandoverFlags(t *testing.T) {
	env := map[string]string{"ASTRAGUARD_HANDOVER_DIR": "/shared/handover", "ASTRAGUARD_REPLICA_NAME": "astraguard-0"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := parseConfig(nil, lookup, io.Discard)
	if err != nil || cfg.handoverDir != "/shared/handover" || cfg.replicaName != "astraguard-0" {
		t.Errorf("parseConfig from env = %q, %q, %v; want /shared/handover, astraguard-0", cfg.handoverDir, cfg.replicaName, err)
	}
	for _, bad := range []string{"a/b", "..", `a\b`} {
		if _, err := parseConfig([]string{"--replica-name=" + bad}, lookup, io.Discard); err == nil {
			t.Errorf("--replica-name=%q accepted; want a plain file name", bad)
		}
	}
}
