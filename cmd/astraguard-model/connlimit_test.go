package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/astraguard/astraguard/internal/connlimit/connlimittest"
)

// TestOneClientLeavesRoomForOthers: with --max-connections 8, one client
// (127.0.0.2) holding idle connections to both ports gets its share, a
// quarter, and the rest closed at once and counted; another client is
// served meanwhile; and an idle connection that never sends its HTTP/2
// preface is closed by the handshake timeout (5s; gRPC's own is 120s).
func TestOneClientLeavesRoomForOthers(t *testing.T) {
	const limit, share = 8, 2
	cfg, err := parseConfig([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error", "--max-connections=8"},
		func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, lis, hlis, _ := startServe(t, cfg)
	g := connlimittest.Idle(t, "127.0.0.2", lis.Addr().String(), limit)
	h := connlimittest.KeepAlive(t, "127.0.0.2", hlis.Addr().String(), "/healthz", limit)
	for _, c := range []struct {
		port string
		held connlimittest.Held
	}{{"gRPC", g}, {"HTTP", h}} {
		if len(c.held.Conns) != share || c.held.Refused != limit-share {
			t.Errorf("%d idle %s connections of one client: %d held, %d refused; want %d and %d",
				limit, c.port, len(c.held.Conns), c.held.Refused, share, limit-share)
		}
	}

	if err := checkServing(t, lis.Addr().String()); err != nil {
		t.Errorf("another client's health Check(): %v", err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	resp, err := hc.Get("http://" + hlis.Addr().String() + "/metrics")
	if err != nil {
		t.Fatalf("another client's GET /metrics = %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `astraguard_limit_rejections_total{limit="connections"} 12`
	if !strings.Contains(string(body), want) {
		t.Errorf("GET /metrics = %d without %q", resp.StatusCode, want)
	}

	if len(g.Conns) > 0 {
		t.Logf("an idle gRPC connection was closed after %v", connlimittest.Closed(t, g.Conns[0]))
	}
}

// TestIdleGRPCConnectionsGiveWay: 4 clients (127.0.0.2-5), each within
// its share, fill --max-connections=4 of the gRPC port with connections
// that finished their HTTP/2 setup and then sit idle (answering pings).
// With --max-connection-idle=1s each gets GOAWAY "max_idle" and is
// closed, so another client's health check, waiting in the backlog, is
// answered; without the idle bound it waited for good.
func TestIdleGRPCConnectionsGiveWay(t *testing.T) {
	const limit = 4
	cfg, err := parseConfig([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error",
		"--max-connections=4", "--max-connection-idle=1s"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, lis, _, _ := startServe(t, cfg)
	var held []net.Conn
	for i := range limit {
		h := connlimittest.HTTP2Idle(t, net.IPv4(127, 0, 0, byte(2+i)).String(), lis.Addr().String(), 1)
		if len(h.Conns) != 1 {
			t.Fatalf("client %d's connection refused", i)
		}
		held = append(held, h.Conns...)
	}
	if err := checkServing(t, lis.Addr().String()); err != nil {
		t.Fatalf("another client's health Check() with the port full of idle connections: %v", err)
	}
	for i, c := range held {
		if debug := connlimittest.GoAway(t, c); debug != "max_idle" {
			t.Errorf("client %d's idle connection: GOAWAY %q, want \"max_idle\"", i, debug)
		}
	}
}

// checkServing asks addr's health service as a new client, waiting at
// most 30s (a bound for a broken test, not a timing assertion).
func checkServing(t *testing.T, addr string) error {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err == nil && r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		err = fmt.Errorf("status %v, want SERVING", r.GetStatus())
	}
	return err
}
