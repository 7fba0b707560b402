package scaleout

import (
	"context"
	"flag"
	"fmt"
	"github.com/astraguard/astraguard/test/harness"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/client"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// -scaleout.stall runs TestFrozenReplicaStall, which takes about a minute
// of waiting: make test leaves it out.
var measureStall = flag.Bool("scaleout.stall", false, "measure how long a frozen replica's series stall with default client settings (about a minute)")

// TestFrozenReplicaStall measures what docs/scale-out.md states: with
// client.Config's defaults, how long a series owned by a replica that
// hangs without closing its connections (SIGSTOP) waits until another
// replica answers it. The code implies about 60s: the keepalive ping after
// 30s without a read, its 10s timeout, then the reconnect to the frozen
// replica, which the kernel accepts but nothing answers, failing after
// gRPC's 20s minimum connect timeout; the ring then picks the next
// replica. The test requires the answer to come from another replica, and
// not before a keepalive ping could have been sent (a lower bound, which
// a slow machine cannot break); it logs the measured stall.
func TestFrozenReplicaStall(t *testing.T) {
	if !*measureStall {
		t.Skip("waits about a minute; run with -args -scaleout.stall")
	}
	bin := buildService(t)
	var ins []*harness.Process
	for i := range 3 {
		ins = append(ins, startInstance(t, bin, fmt.Sprintf("replica %c", 'A'+i)))
	}
	addrs := make([]string, len(ins))
	for i, in := range ins {
		addrs[i] = in.GRPCAddr
	}
	c, err := client.New(strings.Join(addrs, ","), client.Config{}) // the defaults, as documented
	if err != nil {
		t.Fatalf("client.New() = %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute) // bounds a broken test
	defer cancel()
	send := func(id string) *client.Call {
		call, err := c.Go(ctx, &astraguardv1.DetectRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: id, Values: []float64{1}}}}, nil)
		if err != nil {
			t.Fatalf("Go(%s) = %v", id, err)
		}
		select {
		case <-call.Done:
		case <-ctx.Done():
			t.Fatalf("Go(%s): no answer", id)
		}
		if call.Err != nil {
			t.Fatalf("Go(%s) = %v", id, call.Err)
		}
		return call
	}
	victim := ins[1]
	id := ""
	for i := range 200 {
		s := fmt.Sprintf("stall/%d", i)
		if send(s).Replica == victim.GRPCAddr {
			id = s
			break
		}
	}
	if id == "" {
		t.Fatalf("no series of 200 maps to %s", victim.Name)
	}
	send(id) // the stream is open and has just been read from

	victim.Freeze(t)
	start := time.Now()
	call := send(id)
	stall := time.Since(start)
	if call.Replica == victim.GRPCAddr {
		t.Fatalf("answered by the frozen replica %s", victim.Name)
	}
	t.Logf("RESULT frozen replica: series answered by another replica after %v (default client: keepalive 30s + 10s, then gRPC's 20s connect timeout)", stall.Round(100*time.Millisecond))
	if stall < 30*time.Second {
		t.Errorf("stall %v: the series moved before a keepalive ping (30s of silence) could notice the frozen replica", stall)
	}
}
