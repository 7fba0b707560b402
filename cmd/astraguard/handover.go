package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/checkpoint"
	"github.com/astraguard/astraguard/checkpoint/checkpointprom"
)

// handover shares series state between replicas through --handover-dir:
// a draining replica writes its series there as <replica name>.snap, and
// every replica indexes the others' files and adopts a series from them
// when it first sees it. A kill -9 writes nothing: its series start cold.
type handover struct {
	out *checkpoint.Keeper // writes this replica's file on shutdown
	idx atomic.Pointer[checkpoint.Index]
}

// Adopt implements detector.Adopter. The index is set once the detector,
// whose signature it checks, exists; before that nothing is adopted.
func (h *handover) Adopt(id string) ([]byte, bool) {
	if x := h.idx.Load(); x != nil {
		return x.Adopt(id)
	}
	return nil, false
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
// mean sig, and registers the metrics. No-op without --handover-dir.
func (h *handover) start(cfg config, logger *slog.Logger, reg prometheus.Registerer, sig string, series checkpoint.Part) error {
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
	h.out = out
	x := checkpoint.NewIndex(cfg.handoverDir, file, sig, "series", cfg.seriesTTL, cfg.maxSeries, checkpoint.WithLogger(lg))
	reg.MustRegister(checkpointprom.NewIndexCollector(x))
	h.idx.Store(x)
	return nil
}

// run scans the handover directory every --checkpoint-interval until ctx
// is done.
func (h *handover) run(ctx context.Context, interval time.Duration) {
	if x := h.idx.Load(); x != nil {
		x.Run(ctx, interval)
	}
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
