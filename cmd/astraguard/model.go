package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tracing"
)

// newDetector builds the detector over the remote model client when
// --model-addr is set and over the embedded reference model otherwise
// (its per-series state then lives in the detector's series table), with
// a function that releases the model client.
func newDetector(cfg config, remote *oip.Client, gate detector.Gate, loadErrors prometheus.Counter, opts ...detector.Option) (*detector.Detector, error) {
	dcfg := detector.Config{ModelTimeout: cfg.modelTimeout, MaxSeries: cfg.maxSeries, SeriesTTL: cfg.seriesTTL, MaxClockSkew: cfg.maxClockSkew}
	if remote != nil {
		return detector.New(remote, gate, dcfg, opts...)
	}
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		loadErrors.Inc()
		return nil, fmt.Errorf("embedded model: %w", err)
	}
	return detector.NewEmbedded(tmpl, gate, dcfg, opts...)
}

// newModel returns the remote model client when --model-addr is set (nil
// otherwise), with a function that releases it.
func newModel(ctx context.Context, cfg config, logger *slog.Logger, loadErrors prometheus.Counter, tlsOpts []tlsconf.Option, tr *tracing.Tracing) (*oip.Client, func() error, error) {
	if cfg.modelAddr == "" {
		return nil, func() error { return nil }, nil
	}
	dialOpts, err := cfg.sec.modelDialOptions(tlsOpts...)
	if err != nil {
		return nil, nil, err
	}
	// The client span of each model call carries the request's trace on.
	dialOpts = append(dialOpts, grpc.WithStatsHandler(tr.ClientHandler()))
	conn, err := oip.NewConn(cfg.modelAddr, dialOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("model client: %w", err)
	}
	client, err := oip.New(conn, oip.Config{ModelName: cfg.modelName},
		oip.WithLogger(logger), // oip names itself: component=oip
		oip.WithLoadErrors(loadErrors),
	)
	if err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("model client: %w", err)
	}
	// A model that is down at start is not fatal: the breaker and the
	// heuristic carry the service until it comes up.
	if err := client.CheckReady(ctx); err != nil {
		logger.WarnContext(ctx, "model not ready at start; serving from the heuristic until it is", "err", err)
	}
	return client, conn.Close, nil
}
