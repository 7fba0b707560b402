package detector

import (
	"context"
	"fmt"
	"testing"

	"github.com/astraguard/astraguard/internal/checkpoint"
)

// BenchmarkCheckpoint100k writes a checkpoint of 100,000 warm series of an
// embedded-model detector (the service's whole per-series state), fsync
// included, and reports the snapshot's size.
func BenchmarkCheckpoint100k(b *testing.B) {
	const n = 100_000
	d := newEmbeddedDetector(b, 20, Config{MaxSeries: n})
	ctx := context.Background()
	var out []Verdict
	groups := make([]Group, 0, 100)
	for s := 0; s < n; s += cap(groups) {
		groups = groups[:0]
		for i := s; i < s+cap(groups); i++ {
			g := wave(0, 30, 0)
			g.SeriesID = fmt.Sprintf("sat%d/channel-%d", i/100, i)
			groups = append(groups, g)
		}
		out = d.Score(ctx, out[:0], groups)
	}
	if d.SeriesCount() != n {
		b.Fatalf("%d series, want %d", d.SeriesCount(), n)
	}
	k, err := checkpoint.New(b.TempDir(), "bench.snap", d.StateSignature())
	if err != nil {
		b.Fatal(err)
	}
	k.Add("series", d.StatePart())
	for b.Loop() {
		if err := k.Save(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(k.Stats().LastBytes), "snapshot-bytes")
	b.ReportMetric(float64(k.Stats().LastBytes)/n, "bytes/series")
}
