package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/checkpoint/checkpointprom"
)

// handover shares series state between replicas through --handover-dir:
// every replica writes its series there as <replica name>.snap every
// --checkpoint-interval and once more when it drains, and every replica
// indexes the others' files and adopts a series from them when it first
// sees it. So after a kill -9 the survivors adopt the dead replica's
// series as of its last periodic checkpoint.
//
// Ownership follows routing: a series is adopted only by the replica it
// arrives at while that replica does not hold it, and a replica's file is
// only read by the others, never changed or removed while it is rewritten
// (a refused file is set aside; one not rewritten for --series-ttl is
// deleted). A live replica keeps its series: another replica adopting a
// copy (a client that briefly routed elsewhere, a replica added) takes
// nothing from it.
type handover struct {
	out *checkpoint.Keeper // writes this replica's file
	idx atomic.Pointer[checkpoint.Index]
}

// Adopt implements detector.Adopter. The index is set once the detector,
// whose signature it checks, exists; before that nothing is adopted.
func (h *handover) Adopt(id string, install func([]byte) error) bool {
	if x := h.idx.Load(); x != nil {
		return x.Adopt(id, install)
	}
	return false
}

// defaultReplicaName names this process's handover file when
// --replica-name is empty: unique per host and process.
func defaultReplicaName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "astraguard"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// start opens the handover directory for the series part whose records
// mean sig and keep within bounds, and registers the metrics. No-op
// without --handover-dir.
// later orders two records of one series (detector.LaterRecord).
func (h *handover) start(cfg config, logger *slog.Logger, reg prometheus.Registerer, sig string, series checkpoint.Part, bounds checkpoint.Bounds, later func(a, b []byte) bool) error {
	if cfg.handoverDir == "" {
		return nil
	}
	name := cfg.replicaName
	if name == "" {
		name = defaultReplicaName()
	}
	file := name + checkpoint.HandoverSuffix
	lg := logger.With("component", "handover")
	out, err := checkpoint.New(cfg.handoverDir, file, sig, checkpoint.WithLogger(lg))
	if err != nil {
		return fmt.Errorf("--handover-dir: %w", err)
	}
	out.Add("series", series)
	if err := out.RemoveTemps(); err != nil { // a kill -9 of this replica mid-write
		lg.Warn("cannot remove a stale temporary handover file", "err", err)
	}
	h.out = out
	// A file larger than --max-series records of the codec's size is
	// refused unread; the index holds at most as many records and bytes.
	// Of two replicas' records of one series, the one that learnt from
	// more samples wins, not the one whose writer's clock says later.
	x := checkpoint.NewIndex(cfg.handoverDir, file, sig, "series", cfg.seriesTTL, cfg.maxSeries, checkpoint.WithLogger(lg),
		checkpoint.WithSections(map[string]checkpoint.Bounds{"series": bounds}), checkpoint.WithLater(later))
	reg.MustRegister(checkpointprom.NewIndexCollector(x))
	h.idx.Store(x)
	return nil
}

// run writes this replica's file and scans the handover directory every
// --checkpoint-interval until ctx is done.
func (h *handover) run(ctx context.Context, interval time.Duration) {
	x := h.idx.Load()
	if x == nil {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { h.out.Run(ctx, interval) })
	x.Run(ctx, interval)
	wg.Wait()
}

// final writes this replica's series for the others, after the streams
// have drained.
func (h *handover) final(ctx context.Context, logger *slog.Logger) {
	if h.out == nil {
		return
	}
	start := time.Now()
	if err := h.out.Save(ctx); err != nil {
		logger.ErrorContext(ctx, "handover snapshot failed: this replica's series start cold elsewhere", "err", err)
		return
	}
	logger.InfoContext(ctx, "handover snapshot written", "path", h.out.Path(), "took", time.Since(start).String())
}
