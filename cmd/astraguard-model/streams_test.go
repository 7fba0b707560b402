package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/internal/connlimit"
)

// TestHealthWatchStreamsBounded: one client holds
// connlimit.MaxOtherStreamsPerClient health Watch streams open, which any
// client may open; the next is RESOURCE_EXHAUSTED naming the limit and
// counted in astraguard_limit_rejections_total{limit="other_streams"},
// while unary health checks go on. Unbounded, one client held 1024 on
// each of its connections (20 connections: 20,480 streams, 330 MB).
func TestHealthWatchStreamsBounded(t *testing.T) {
	cfg, err := parseConfig([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"},
		func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, lis, hlis, _ := startServe(t, cfg)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	watch := func() error {
		s, err := health.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			_, err = s.Recv() // the status, or the refusal
		}
		return err
	}
	for i := range connlimit.MaxOtherStreamsPerClient {
		if err := watch(); err != nil {
			t.Fatalf("health Watch %d = %v", i, err)
		}
	}
	if err := watch(); status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), connlimit.LimitOtherStreams) {
		t.Fatalf("health Watch beyond %d = %v, want RESOURCE_EXHAUSTED naming %q", connlimit.MaxOtherStreamsPerClient, err, connlimit.LimitOtherStreams)
	}
	if err := checkServing(t, lis.Addr().String()); err != nil {
		t.Errorf("health Check() with the Watch streams used up: %v", err)
	}
	resp, err := http.Get("http://" + hlis.Addr().String() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics = %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `astraguard_limit_rejections_total{limit="other_streams"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("GET /metrics without %q", want)
	}
}
