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
	"strings"
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
		// One problem a line, each with the same prefix: --check-config
		// and a failed start list every problem of the configuration.
		for line := range strings.SplitSeq(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "astraguard:", line)
		}
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
