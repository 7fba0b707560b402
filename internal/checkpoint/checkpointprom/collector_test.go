package checkpointprom

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/astraguard/astraguard/internal/checkpoint"
)

func TestCollector(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.snap"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := checkpoint.New(dir, "x.snap", "sig")
	if err != nil {
		t.Fatal(err)
	}
	k.Restore(t.Context())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(k))
	want := `
# HELP astraguard_state_restore_errors_total Snapshots refused at start, by reason (unreadable, truncated, corrupt, incompatible, invalid, oversized, not_regular); each was set aside and the process started fresh.
# TYPE astraguard_state_restore_errors_total counter
astraguard_state_restore_errors_total{reason="corrupt"} 1
astraguard_state_restore_errors_total{reason="incompatible"} 0
astraguard_state_restore_errors_total{reason="invalid"} 0
astraguard_state_restore_errors_total{reason="not_regular"} 0
astraguard_state_restore_errors_total{reason="oversized"} 0
astraguard_state_restore_errors_total{reason="truncated"} 0
astraguard_state_restore_errors_total{reason="unreadable"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "astraguard_state_restore_errors_total"); err != nil {
		t.Error(err)
	}
	if err := k.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		got[mf.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	for _, name := range []string{"astraguard_state_checkpoint_bytes", "astraguard_state_last_checkpoint_timestamp_seconds", "astraguard_state_checkpoints_total"} {
		if got[name] <= 0 {
			t.Errorf("%s = %v after a save, want > 0", name, got[name])
		}
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Errorf("lint: %v %v", probs, err)
	}
}
