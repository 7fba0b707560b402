package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkReload measures one reload of the shipped complete example:
// parse the file over the start's flags and environment, validate
// everything, diff (no appliers: nothing changes).
func BenchmarkReload(b *testing.B) {
	path, err := filepath.Abs("../../examples/config/astraguard.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := parseConfig([]string{"--config", path}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	r := newReloader(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		if res := r.reload("bench", nil); !res.Success {
			b.Fatal(res.Error)
		}
	}
}
