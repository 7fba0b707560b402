// Command astraguard runs the AstraGuard anomaly-detection service: gRPC
// DetectorService and BreakerAdmin, plus an HTTP port with /metrics,
// /healthz and /readyz. With no --model-addr the reference model runs
// embedded in-process behind the same client interface and breaker.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/astraguard/astraguard/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if errors.Is(err, version.ErrRequested) {
		fmt.Println(version.Get().String("astraguard"))
		return
	}
	if err != nil && !errors.Is(err, errHelp) {
		fmt.Fprintln(os.Stderr, "astraguard:", err)
		os.Exit(1)
	}
}

// run wires the service from args and serves until ctx is done.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	if cfg.checkConfig {
		return checkConfig(cfg, stderr)
	}
	app, err := newApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	return app.serve(ctx)
}
