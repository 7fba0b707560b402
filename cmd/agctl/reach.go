package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// errUnreachable marks a replay whose every replica refused or ignored
// the connection: nothing was sent.
var errUnreachable = errors.New("service unreachable")

// checkReachable asks every replica of cf.addr for its health once, each
// call failing fast (no wait for a connection), within timeout. It
// returns nil when at least one replica answers anything at all (even
// Unimplemented: it is a gRPC server), and names each that does not on
// warn. When none answers it returns errUnreachable with their errors, so
// a replay against a stopped service fails in seconds instead of
// re-opening streams until the client gives up.
func (c *cli) checkReachable(ctx context.Context, cf connFlags, timeout time.Duration, warn func(string)) error {
	targets := []string{cf.addr}
	if !strings.Contains(cf.addr, "://") {
		targets = strings.Split(cf.addr, ",")
	}
	opts, err := c.dialOptions(cf)
	if err != nil {
		return err
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, target := range targets {
		wg.Go(func() { errs[i] = probe(ctx, target, timeout, opts) })
	}
	wg.Wait()
	var down []error
	for _, err := range errs {
		if err != nil {
			down = append(down, err)
		}
	}
	if len(down) == len(targets) {
		return fmt.Errorf("%w, nothing sent (is astraguard running there? --addr, AGCTL_ADDR):\n%w", errUnreachable, errors.Join(down...))
	}
	for _, err := range down {
		warn(fmt.Sprintf("agctl: %v; its series go to the other replicas", err))
	}
	return nil
}

func probe(ctx context.Context, target string, timeout time.Duration, opts []grpc.DialOption) error {
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	switch status.Code(err) {
	case codes.Unavailable:
		return fmt.Errorf("%s: %s", target, printable(status.Convert(err).Message()))
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: no answer within %s (--connect-timeout)", target, timeout)
	case codes.Canceled:
		return fmt.Errorf("%s: %w", target, ctx.Err())
	}
	return nil
}
