package server

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/connlimit"
)

// TestOtherStreamsBounded holds connlimit.MaxOtherStreamsPerClient health Watch and
// reflection streams open as one client, which any client that can
// connect may open: the next is RESOURCE_EXHAUSTED naming the limit and
// counted, while another client still gets one and the same client's
// Detect and WatchBreakers streams, bounded by their own limits, still
// open. Closing one frees its slot. Before the bound, one client held
// 1024 streams per connection on each of its connections (20 connections:
// 20,480 Watch streams, 280 MB).
func TestOtherStreamsBounded(t *testing.T) {
	e := newTCPEnv(t, Config{}, tcpOptions{opts: []Option{WithClientKey(clientFromHeader)}})
	det, conn := e.client(t)
	health := healthpb.NewHealthClient(conn)
	refl := reflectionpb.NewServerReflectionClient(conn)
	as := func(client string) (context.Context, context.CancelFunc) {
		return context.WithCancel(metadata.AppendToOutgoingContext(t.Context(), "client", client))
	}
	watch := func(client string) (context.CancelFunc, error) {
		ctx, cancel := as(client)
		s, err := health.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			_, err = s.Recv() // the status, or the refusal
		}
		if err != nil {
			cancel()
		}
		return cancel, err
	}
	var first context.CancelFunc
	for i := range connlimit.MaxOtherStreamsPerClient {
		if i%2 == 1 { // reflection streams share the bound
			ctx, cancel := as("a")
			defer cancel()
			s, err := refl.ServerReflectionInfo(ctx)
			if err == nil {
				err = s.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
			}
			if err == nil {
				_, err = s.Recv()
			}
			if err != nil {
				t.Fatalf("reflection stream %d as a = %v", i, err)
			}
			continue
		}
		cancel, err := watch("a")
		if err != nil {
			t.Fatalf("health Watch %d as a = %v", i, err)
		}
		defer cancel()
		if first == nil {
			first = cancel
		}
	}
	_, err := watch("a")
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), LimitOtherStreams) {
		t.Fatalf("health Watch beyond %d as a = %v, want RESOURCE_EXHAUSTED naming %q", connlimit.MaxOtherStreamsPerClient, err, LimitOtherStreams)
	}
	if got := testutil.ToFloat64(e.srv.detect.metrics.rejections[LimitOtherStreams]); got != 1 {
		t.Errorf("astraguard_limit_rejections_total{limit=other_streams} = %g, want 1", got)
	}
	cancelB, err := watch("b")
	if err != nil {
		t.Fatalf("health Watch as b = %v, want a slot: the bound is per client", err)
	}
	cancelB()
	ctx, cancel := as("a")
	defer cancel()
	ds, err := det.Detect(ctx)
	if err == nil {
		err = ds.Send(&astraguardv1.DetectRequest{Series: []*astraguardv1.SeriesSamples{series("s", 1)}})
	}
	if err == nil {
		_, err = ds.Recv()
	}
	if err != nil {
		t.Errorf("Detect as a with its other streams used up = %v, want a verdict", err)
	}
	ws, err := astraguardv1.NewBreakerAdminClient(conn).WatchBreakers(ctx, &astraguardv1.WatchBreakersRequest{})
	if err == nil {
		_, err = ws.Recv()
	}
	if err != nil {
		t.Errorf("WatchBreakers as a with its other streams used up = %v, want the snapshot", err)
	}
	first()
	// The server frees the slot once it sees the cancel; retry until then.
	for {
		cancel, err := watch("a")
		if err == nil {
			cancel()
			break
		}
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("health Watch as a after one closed = %v", err)
		}
	}
}
