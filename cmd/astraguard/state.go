package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/checkpoint/checkpointprom"
	"github.com/astraguard/astraguard/server"
)

// snapshotFile is the service's snapshot in --state-dir; the model server
// uses its own name, so the two may share a directory.
const snapshotFile = "astraguard.snap"

// stateVersion is part of the service's configuration signature: bump it
// when the meaning of the snapshot's sections changes.
const stateVersion = "astraguard service state 1"

// breakerBounds bounds the breakers section of a snapshot: a few named
// breakers whose JSON records hold at most 256-byte admin strings, with
// room to spare.
var breakerBounds = checkpoint.Bounds{Records: 64, Key: 4 << 10, Value: 64 << 10}

// seriesBounds bounds the series section of a snapshot: at most
// --max-series records, keyed by ids the detector accepts, each of the
// detector's fixed record length.
func seriesBounds(cfg config, det *detector.Detector) checkpoint.Bounds {
	return checkpoint.Bounds{Records: cfg.maxSeries, Key: det.MaxSeriesIDBytes(), Value: det.StateRecordBytes(), Fixed: true}
}

// newKeeper returns the checkpoint keeper over parts, with its metrics
// registered, or nil when --state-dir is empty (state lives only in
// memory, as before). A snapshot larger than the series and breaker
// bounds allow is refused unread.
func newKeeper(cfg config, logger *slog.Logger, reg prometheus.Registerer, sig string, parts map[string]checkpoint.Part, series checkpoint.Bounds) (*checkpoint.Keeper, error) {
	if cfg.stateDir == "" {
		return nil, nil
	}
	k, err := checkpoint.New(cfg.stateDir, snapshotFile, sig,
		checkpoint.WithLogger(logger.With("component", "checkpoint")),
		checkpoint.WithSections(map[string]checkpoint.Bounds{"series": series, "breakers": breakerBounds}))
	if err != nil {
		return nil, fmt.Errorf("--state-dir: %w", err)
	}
	// Sections load in this fixed order; the parts are independent.
	for _, name := range []string{"breakers", "series"} {
		if p, ok := parts[name]; ok {
			k.Add(name, p)
		}
	}
	reg.MustRegister(checkpointprom.NewCollector(k))
	return k, nil
}

// runCheckpoints saves every --checkpoint-interval until ctx is done.
func (a *app) runCheckpoints(ctx context.Context) {
	if a.keeper != nil {
		a.keeper.Run(ctx, a.cfg.checkpointInterval)
	}
}

// finalCheckpoint saves once more after the traffic has drained.
func (a *app) finalCheckpoint(ctx context.Context) {
	if a.keeper != nil {
		a.keeper.SaveFinal(ctx)
	}
}

// breakerPart checkpoints every breaker's state, override and probe time,
// one JSON record per breaker (a handful of records: clarity over speed).
//
// A restored override ends within server.MaxForceTTL of now, as one set
// through BreakerAdmin does: an expiry further ahead, or none, was written
// by a clock that ran ahead (or before this one stepped back), or by hand,
// and would pin the breaker for as long as it says.
type breakerPart struct {
	reg    *breaker.Registry
	logger *slog.Logger
	now    func() time.Time
}

func (p breakerPart) SaveState(w *checkpoint.Writer) error {
	for _, s := range p.reg.Export() {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if err := w.Record(s.Name, b); err != nil {
			return err
		}
	}
	return nil
}

func (p breakerPart) LoadState(sec *checkpoint.Section) (func(), error) {
	var saved []breaker.SavedState
	err := sec.Each(func(name string, v []byte) error {
		var s breaker.SavedState
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("breaker %q: %w", name, err)
		}
		if s.Name != name {
			return fmt.Errorf("breaker %q: record names %q", name, s.Name)
		}
		saved = append(saved, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func() {
		latest := p.now().Add(server.MaxForceTTL)
		for i, s := range saved {
			if s.Forced != breaker.ForceNone && (s.ForceExpiry.IsZero() || s.ForceExpiry.After(latest)) {
				p.logger.Warn("restored breaker override expires too late; it ends within the longest override instead",
					"breaker", s.Name, "saved_expiry", s.ForceExpiry, "expiry", latest, "max", server.MaxForceTTL)
				saved[i].ForceExpiry = latest
			}
		}
		if unknown := p.reg.RestoreState(saved); len(unknown) > 0 {
			p.logger.Info("saved state of breakers no longer configured ignored", "breakers", unknown)
		}
	}, nil
}
