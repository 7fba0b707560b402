// Command agecho serves loadtest.Echo, a DetectorService that answers every
// sample without scoring it, on a plain grpc.NewServer() plus the standard
// health service. It is the floor bench-service compares astraguard to.
//
//	agecho --grpc-addr=127.0.0.1:0   # prints "listening on ADDR" to stdout
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "agecho:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("agecho", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("grpc-addr", "127.0.0.1:50061", "gRPC listen address")
	shaped := fs.Bool("shaped", false, "fill verdicts as the service's model path does (score, mechanism, expected band): the floor for the service's response shape")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := grpc.NewServer() // deliberately no options: the floor is gRPC's defaults
	astraguardv1.RegisterDetectorServiceServer(srv, loadtest.Echo{Shaped: *shaped})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	fmt.Fprintln(stdout, "listening on", lis.Addr())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	hs.Shutdown()
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		srv.Stop()
		<-stopped
	}
	return <-done
}
