package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
)

// BenchmarkReload measures one reload of the shipped complete example:
// parse flags, environment and file, validate everything, diff, apply.
func BenchmarkReload(b *testing.B) {
	path, err := filepath.Abs("../../examples/config/astraguard.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := parseConfig([]string{"--config", path}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	r, err := newReloader(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), func(config, *breaker.Settings, *detector.Policies) {})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := r.reload("bench", nil); !res.Success {
			b.Fatal(res.Error)
		}
	}
}
