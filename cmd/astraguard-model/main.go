// Command astraguard-model serves AstraGuard's reference anomaly model over
// the Open Inference Protocol (KServe v2) gRPC API, with gRPC health and
// reflection, and an HTTP listener for /metrics, /healthz and /readyz.
//
// Every flag falls back to an environment variable (flags win):
//
//	--grpc-addr     ASTRAGUARD_MODEL_GRPC_ADDR     gRPC listen address (default :8001)
//	--http-addr     ASTRAGUARD_MODEL_HTTP_ADDR     HTTP listen address (default :8002)
//	--max-series    ASTRAGUARD_MODEL_MAX_SERIES    series the model keeps state for (default 100000)
//	--grace-period  ASTRAGUARD_MODEL_GRACE_PERIOD  drain time on SIGINT/SIGTERM (default 10s)
//	--model-name    ASTRAGUARD_MODEL_NAME          served model name (default astraguard-anomaly)
//	--log-level     ASTRAGUARD_MODEL_LOG_LEVEL     debug, info, warn or error (default info)
//	--tls-cert      ASTRAGUARD_MODEL_TLS_CERT      PEM certificate: TLS on both listeners (with --tls-key)
//	--tls-key       ASTRAGUARD_MODEL_TLS_KEY       PEM private key of --tls-cert
//	--tls-client-ca ASTRAGUARD_MODEL_TLS_CLIENT_CA PEM CA: clients must present a certificate it signed
//	--version                                      print the version and exit
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
