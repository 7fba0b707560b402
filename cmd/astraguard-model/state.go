package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/checkpoint/checkpointprom"
	"github.com/astraguard/astraguard/internal/model"
)

// snapshotFile is the model server's snapshot in --state-dir; the service
// uses another name, so the two may share a directory.
const snapshotFile = "astraguard-model.snap"

// stateVersion is part of the configuration signature: bump it when the
// meaning of the snapshot's records changes.
const stateVersion = "astraguard-model state 1"

// maxSeriesIDBytes is the longest series id the model server accepts, and
// so the longest key of its snapshot.
const maxSeriesIDBytes = 1024

// newKeeper returns the keeper of the per-series model state, with its
// metrics registered, or nil without --state-dir. A snapshot larger than
// --max-series records of the model codec's fixed size is refused unread.
func (a *app) newKeeper(tmpl *model.Template, reg prometheus.Registerer) error {
	if a.cfg.stateDir == "" {
		return nil
	}
	sig := checkpoint.Signature(stateVersion, tmpl.Signature())
	bounds := checkpoint.Bounds{Records: a.cfg.maxSeries, Key: maxSeriesIDBytes,
		Value: checkpoint.TableRecordBytes(model.EncodedBytes), Fixed: true}
	k, err := checkpoint.New(a.cfg.stateDir, snapshotFile, sig,
		checkpoint.WithLogger(a.logger.With("component", "checkpoint")),
		checkpoint.WithSections(map[string]checkpoint.Bounds{"series": bounds}))
	if err != nil {
		return fmt.Errorf("--state-dir: %w", err)
	}
	k.Add("series", checkpoint.NewTablePart(a.model.Series(), checkpoint.Codec[model.Detector]{
		Append: func(b []byte, d *model.Detector) ([]byte, error) { return d.AppendBinary(b) },
		Decode: func(_ string, b []byte) (model.Detector, error) {
			d := tmpl.NewDetector()
			err := d.UnmarshalBinary(b)
			return d, err
		},
	}))
	reg.MustRegister(checkpointprom.NewCollector(k))
	a.keeper = k
	return nil
}

// restore loads the snapshot before the servers start.
func (a *app) restore(ctx context.Context) {
	if a.keeper != nil {
		a.keeper.Restore(ctx)
	}
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
