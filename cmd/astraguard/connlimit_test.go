package main

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/connlimit/connlimittest"
)

// TestOneClientLeavesRoomForOthers: with --max-connections 50, one client
// (127.0.0.2) opening 60 idle connections to the gRPC port and 60 idle
// keep-alive connections to the HTTP port gets its share, a quarter of
// each, and the rest closed at once and counted; meanwhile another client
// is served at once: gRPC health, a DetectBatch and GET /healthz. The
// handshake timeout is a minute here, so only the share can make room.
func TestOneClientLeavesRoomForOthers(t *testing.T) {
	const hog, share = 60, 12
	addrs := runService(t, "--max-connections=50", "--handshake-timeout=1m")
	g := connlimittest.Idle(t, "127.0.0.2", addrs.GRPC, hog)
	h := connlimittest.KeepAlive(t, "127.0.0.2", addrs.HTTP, "/healthz", hog)
	for _, c := range []struct {
		port string
		held connlimittest.Held
	}{{"gRPC", g}, {"HTTP", h}} {
		if len(c.held.Conns) != share || c.held.Refused != hog-share {
			t.Errorf("%d idle %s connections of one client: %d held, %d refused; want %d and %d",
				hog, c.port, len(c.held.Conns), c.held.Refused, share, hog-share)
		}
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // bounds a broken test
	defer cancel()
	conn := dialRun(t, addrs.GRPC)
	if r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("another client's health Check() = %v, %v; want SERVING", r, err)
	}
	t.Logf("another client's first call answered after %v", time.Since(start))
	req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/voltage", Values: []float64{1}}}}
	if _, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(ctx, req); err != nil {
		t.Errorf("another client's DetectBatch() = %v", err)
	}
	hc := &http.Client{Timeout: 30 * time.Second} // bounds a broken test
	resp, err := hc.Get("http://" + addrs.HTTP + "/healthz")
	if err != nil {
		t.Fatalf("another client's GET /healthz = %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another client's GET /healthz = %d, want 200", resp.StatusCode)
	}
	hc.CloseIdleConnections()

	body := httpGet(t, "http://"+addrs.HTTP+"/metrics")
	if got, want := metric(t, body, `astraguard_limit_rejections_total{limit="connections"}`), float64(2*(hog-share)); got != want {
		t.Errorf(`astraguard_limit_rejections_total{limit="connections"} = %v, want %v`, got, want)
	}
	if got := metric(t, body, `astraguard_open_connections{listener="grpc"}`); got != share+1 {
		t.Errorf(`astraguard_open_connections{listener="grpc"} = %v, want the share and the other client's, %d`, got, share+1)
	}
}

// TestIdleKeepAliveGivesWay: 8 clients (127.0.0.2-9), each within its
// share, holding every place of the HTTP port with idle keep-alive
// connections do not keep another client's GET /healthz waiting for the
// idle timeout (two minutes): filling the port closes the connection idle
// longest.
func TestIdleKeepAliveGivesWay(t *testing.T) {
	const limit = 8
	addrs := runService(t, "--max-connections=8")
	var held []net.Conn
	for i := range limit {
		h := connlimittest.KeepAlive(t, net.IPv4(127, 0, 0, byte(2+i)).String(), addrs.HTTP, "/healthz", 1)
		if len(h.Conns) != 1 {
			t.Fatalf("client %d's keep-alive connection refused", i)
		}
		held = append(held, h.Conns...)
	}
	start := time.Now()
	hc := &http.Client{Timeout: 30 * time.Second} // bounds a broken test
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://" + addrs.HTTP + "/healthz")
	if err != nil {
		t.Fatalf("another client's GET /healthz with the port full of idle connections = %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another client's GET /healthz = %d, want 200", resp.StatusCode)
	}
	t.Logf("another client's GET /healthz answered after %v", time.Since(start))
	connlimittest.Closed(t, held[0]) // the one idle longest gave way
}

// TestIdleGRPCConnectionsGiveWay: 4 clients (127.0.0.2-5), each within
// its share, fill --max-connections=4 of the gRPC port with connections
// that finished their HTTP/2 setup and then sit idle (answering pings, so
// keepalive never closes them). With --max-connection-idle=1s each gets
// GOAWAY "max_idle" and is closed, so another client's health check,
// waiting in the backlog, is answered; without the idle bound it waited
// for good.
func TestIdleGRPCConnectionsGiveWay(t *testing.T) {
	const limit = 4
	addrs := runService(t, "--max-connections=4", "--max-connection-idle=1s", "--keepalive-time=1h")
	var held []net.Conn
	for i := range limit {
		h := connlimittest.HTTP2Idle(t, net.IPv4(127, 0, 0, byte(2+i)).String(), addrs.GRPC, 1)
		if len(h.Conns) != 1 {
			t.Fatalf("client %d's connection refused", i)
		}
		held = append(held, h.Conns...)
	}
	if got := metric(t, httpGet(t, "http://"+addrs.HTTP+"/metrics"), `astraguard_open_connections{listener="grpc"}`); got != limit {
		t.Fatalf(`astraguard_open_connections{listener="grpc"} = %v with the port filled, want %d`, got, limit)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // bounds a broken test
	defer cancel()
	if r, err := healthpb.NewHealthClient(dialRun(t, addrs.GRPC)).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("another client's health Check() with the port full of idle connections = %v, %v; want SERVING", r, err)
	}
	for i, c := range held {
		if debug := connlimittest.GoAway(t, c); debug != "max_idle" {
			t.Errorf("client %d's idle connection: GOAWAY %q, want \"max_idle\"", i, debug)
		}
	}
}
