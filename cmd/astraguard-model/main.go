// Command astraguard-model serves AstraGuard's reference anomaly model over
// the Open Inference Protocol (KServe v2) gRPC API, with gRPC health and
// reflection, and an HTTP listener for /metrics, /healthz and /readyz.
//
// Every flag falls back to the environment variable ASTRAGUARD_MODEL_<FLAG>
// (--max-series: ASTRAGUARD_MODEL_MAX_SERIES; --model-name also
// ASTRAGUARD_MODEL_NAME), derived from the flag's name so that no flag
// lacks one; the command line wins. "astraguard-model --help" lists the
// flags and docs/configuration.md the variables.
//
// On SIGINT or SIGTERM it reports NOT_SERVING on health and /readyz, drains
// in-flight calls for up to the grace period, then stops.
package main

import (
	"context"
	"errors"
	"flag"
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
		fmt.Println(version.Get().String("astraguard-model"))
		return
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "astraguard-model:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	a, err := newApp(cfg, stderr)
	if err != nil {
		return err
	}
	lis, hlis, err := cfg.listen(ctx)
	if err != nil {
		return err
	}
	return a.serve(ctx, lis, hlis)
}
