package checkpoint_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/store"
)

// benchSeries is the series count of the checkpoint benchmarks, the
// default --max-series.
const benchSeries = 100_000

// modelTable returns a table of n series of warm model state: the model
// server's table, and the bulk of the service's.
func modelTable(b *testing.B, n int) (*store.Table[model.Detector], checkpoint.Codec[model.Detector]) {
	b.Helper()
	tb, err := store.New[model.Detector](store.Config{Capacity: n})
	if err != nil {
		b.Fatal(err)
	}
	proto, err := model.NewDetector(model.Config{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := range n {
		d := *proto
		for j := range 50 {
			d.Update(int64(j)*60e9, float64((i+j)%17))
		}
		tb.Restore(fmt.Sprintf("sat%d/channel-%d", i/100, i), d, now)
	}
	codec := checkpoint.Codec[model.Detector]{
		Append: func(b []byte, v *model.Detector) ([]byte, error) { return v.AppendBinary(b) },
		Decode: func(_ string, b []byte) (model.Detector, error) {
			d := *proto
			err := d.UnmarshalBinary(b)
			return d, err
		},
	}
	return tb, codec
}

// BenchmarkCheckpoint100k writes a snapshot of 100,000 series of model
// state (temp file, fsync, rename, directory fsync) and reports its size.
func BenchmarkCheckpoint100k(b *testing.B) {
	tb, codec := modelTable(b, benchSeries)
	k, err := checkpoint.New(b.TempDir(), "bench.snap", "sig")
	if err != nil {
		b.Fatal(err)
	}
	k.Add("series", checkpoint.NewTablePart(tb, codec))
	for b.Loop() {
		if err := k.Save(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(k.Stats().LastBytes), "snapshot-bytes")
	b.ReportMetric(float64(k.Stats().LastBytes)/benchSeries, "bytes/series")
}

// BenchmarkRestore100k loads that snapshot into an empty table: read,
// verify, decode every record twice (check, then install).
func BenchmarkRestore100k(b *testing.B) {
	tb, codec := modelTable(b, benchSeries)
	dir := b.TempDir()
	k, _ := checkpoint.New(dir, "bench.snap", "sig")
	k.Add("series", checkpoint.NewTablePart(tb, codec))
	if err := k.Save(b.Context()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		dst, _ := store.New[model.Detector](store.Config{Capacity: benchSeries})
		k2, _ := checkpoint.New(dir, "bench.snap", "sig")
		k2.Add("series", checkpoint.NewTablePart(dst, codec))
		k2.Restore(b.Context())
		if dst.Len() != benchSeries {
			b.Fatalf("restored %d series, want %d", dst.Len(), benchSeries)
		}
	}
}

// BenchmarkScoreDuringCheckpoint measures what a checkpoint costs the
// scorers: one goroutine scores a sample at a time (lockstep: acquire the
// series' entry, update its model, release) over the 100,000 series, and
// reports the p50/p99/max of one score, alone and while checkpoints of
// the whole table run back to back. The walk copies one shard under its
// lock and writes outside it, so a scorer waits at most for one shard's
// copy.
func BenchmarkScoreDuringCheckpoint(b *testing.B) {
	for _, during := range []bool{false, true} {
		name := "idle"
		if during {
			name = "checkpointing"
		}
		b.Run(name, func(b *testing.B) {
			tb, codec := modelTable(b, benchSeries)
			k, _ := checkpoint.New(b.TempDir(), "bench.snap", "sig")
			k.Add("series", checkpoint.NewTablePart(tb, codec))
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for during {
					select {
					case <-stop:
						return
					default:
					}
					if err := k.Save(context.Background()); err != nil {
						panic(err)
					}
				}
			}()
			ids := make([]string, benchSeries)
			for i := range ids {
				ids[i] = fmt.Sprintf("sat%d/channel-%d", i/100, i)
			}
			lat := make([]time.Duration, 0, b.N)
			now := time.Now()
			i := 0
			for b.Loop() {
				id := ids[i%benchSeries]
				t0 := time.Now()
				ref := tb.Acquire(id, now)
				ref.Value().Update(int64(i)*60e9, float64(i%23))
				ref.Release()
				lat = append(lat, time.Since(t0))
				i++
			}
			close(stop)
			<-done
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }
			b.ReportMetric(q(0.5), "p50-ns")
			b.ReportMetric(q(0.99), "p99-ns")
			b.ReportMetric(q(1), "max-ns")
			b.ReportMetric(float64(k.Stats().Saves), "checkpoints")
		})
	}
}
