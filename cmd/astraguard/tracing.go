package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/astraguard/astraguard/internal/tracing"
)

// newTracing builds the service's tracing from the OTEL_* environment
// (README "Tracing"): exported when OTEL_TRACES_EXPORTER or an OTLP
// endpoint is set, otherwise ids only, for the log lines.
func newTracing(ctx context.Context, logger *slog.Logger) (*tracing.Tracing, error) {
	tr, err := tracing.FromEnv(ctx, "astraguard", os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if tr.Exporting {
		logger.InfoContext(ctx, "tracing on", "exporter", os.Getenv("OTEL_TRACES_EXPORTER"))
	}
	return tr, nil
}
