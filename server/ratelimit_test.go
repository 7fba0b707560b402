package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// fakeTime drives a clientLimiter: now is settable and sleeping advances
// it, recording each wait.
type fakeTime struct {
	now   time.Time
	slept []time.Duration
}

func newFakeLimiter(perSecond float64, burst int, wait time.Duration, maxClients int) (*clientLimiter, *fakeTime) {
	ft := &fakeTime{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	l := newClientLimiter(perSecond, burst, wait, maxClients)
	l.now = func() time.Time { return ft.now }
	l.sleep = func(_ context.Context, d time.Duration) error {
		ft.slept = append(ft.slept, d)
		ft.now = ft.now.Add(d)
		return nil
	}
	return l, ft
}

func TestClientLimiterWaitsThenRefuses(t *testing.T) {
	l, ft := newFakeLimiter(10, 10, 800*time.Millisecond, 100)
	steps := []struct {
		n     int
		slept time.Duration // 0: no wait
		err   string
	}{
		{10, 0, ""},                     // the burst
		{5, 500 * time.Millisecond, ""}, // 5 samples at 10/s
		{20, 0, "limit exceeded: rate: client c sent 20 samples in one request, more than the burst of 10"},
		{10, 0, "limit exceeded: rate: client c exceeded 10 samples/s (burst 10)"}, // would wait 1s
		{8, 800 * time.Millisecond, ""}, // the refused request gave its tokens back
		{0, 100 * time.Millisecond, ""}, // an empty request costs one sample
	}
	for i, s := range steps {
		ft.slept = nil
		err := l.take(t.Context(), "c", s.n)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		var slept time.Duration
		if len(ft.slept) > 0 {
			slept = ft.slept[0]
		}
		if gotErr != s.err || slept != s.slept {
			t.Errorf("step %d: take(%d) = %q after waiting %v, want %q after %v", i, s.n, gotErr, slept, s.err, s.slept)
		}
	}
}

func TestClientLimiterSeparatesAndForgetsClients(t *testing.T) {
	l, ft := newFakeLimiter(1, 5, 0, 2)
	for _, c := range []string{"a", "b"} {
		if err := l.take(t.Context(), c, 5); err != nil {
			t.Fatalf("take(%s, burst) = %v, want each client its own burst", c, err)
		}
	}
	if err := l.take(t.Context(), "a", 1); err == nil {
		t.Error("take(a) over budget succeeded")
	}
	// A third client evicts the least recently used one, b, so memory
	// stays at two clients.
	if err := l.take(t.Context(), "c", 1); err != nil {
		t.Fatal(err)
	}
	if n := l.clients(); n != 2 {
		t.Errorf("clients() = %d, want 2", n)
	}
	if err := l.take(t.Context(), "a", 1); err == nil {
		t.Error("take(a) succeeded: a was evicted although b was older")
	}
	// Clients idle long enough to refill are dropped as new ones arrive.
	ft.now = ft.now.Add(time.Minute)
	if err := l.take(t.Context(), "d", 1); err != nil {
		t.Fatal(err)
	}
	if n := l.clients(); n != 1 {
		t.Errorf("clients() after a minute idle = %d, want 1", n)
	}
}

func TestClientLimiterCancelledWaitReturnsTokens(t *testing.T) {
	l, ft := newFakeLimiter(1, 2, time.Hour, 10)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	l.sleep = sleepCtx
	if err := l.take(ctx, "c", 2); err != nil {
		t.Fatal(err)
	}
	if err := l.take(ctx, "c", 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("take() with a cancelled ctx = %v, want context.Canceled", err)
	}
	ft.now = ft.now.Add(2 * time.Second) // exactly refills the first take
	l.sleep = func(context.Context, time.Duration) error {
		t.Error("waited: the cancelled take kept its tokens")
		return nil
	}
	if err := l.take(t.Context(), "c", 2); err != nil {
		t.Fatal(err)
	}
}

// TestPeerIP keys IPv4 peers by address and IPv6 peers by /64, so a host
// rotating through its /64 keeps one budget.
func TestPeerIP(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"10.0.0.7:5000", "10.0.0.7"},
		{"[::ffff:10.0.0.7]:5000", "10.0.0.7"},
		{"[::1]:5000", "::/64"},
		{"[2001:db8:1:2::1]:5000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff:ffff:ffff:ffff]:1", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:5000", "2001:db8:1:3::/64"},
		{"[fe80::1%eth0]:5000", "fe80::/64"},
		{"bufconn", "bufconn"},
		{"host.example:5000", "host.example"},
	}
	for _, tt := range tests {
		ctx := peer.NewContext(t.Context(), &peer.Peer{Addr: &fakeAddr{tt.addr}})
		if got := PeerIP(ctx); got != tt.want {
			t.Errorf("PeerIP(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
	if got := PeerIP(t.Context()); got != "unknown" {
		t.Errorf("PeerIP(no peer) = %q, want unknown", got)
	}
}

type fakeAddr struct{ s string }

func (a *fakeAddr) Network() string { return "tcp" }
func (a *fakeAddr) String() string  { return a.s }

// byTenant keys clients by a metadata header, as an mTLS identity would.
func byTenant(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, "tenant"); len(v) > 0 {
		return v[0]
	}
	return PeerIP(ctx)
}

// TestRateLimitEndToEnd spends one client's budget over DetectBatch and a
// Detect stream: the refusal names the limit and the client, and another
// client still has its own budget. At 1 sample/s no budget refills
// between the calls.
func TestRateLimitEndToEnd(t *testing.T) {
	e := newTCPEnv(t, Config{RateLimit: 1, RateBurst: 4}, tcpOptions{opts: []Option{WithClientKey(byTenant)}})
	c, _ := e.client(t)
	ctxA := metadata.AppendToOutgoingContext(t.Context(), "tenant", "a")
	ctxB := metadata.AppendToOutgoingContext(t.Context(), "tenant", "b")
	batch := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("s", 3)}}
	if _, err := c.DetectBatch(ctxA, batch); err != nil {
		t.Fatalf("DetectBatch(a, within burst) = %v", err)
	}
	_, err := c.DetectBatch(ctxA, batch)
	wantLimit(t, err, "limit exceeded: rate: client a exceeded 1 samples/s (burst 4)")
	big := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("s", 5)}}
	_, err = c.DetectBatch(ctxB, big)
	wantLimit(t, err, "limit exceeded: rate: client b sent 5 samples in one request, more than the burst of 4")

	stream, err := c.Detect(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 2, 1} {
		if err := stream.Send(&astraguardv1.DetectRequest{RequestId: string(rune('0' + n)), Series: []*astraguardv1.SeriesSamples{series("s", n)}}); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := recvAll(t, stream)
	if len(ids) != 2 {
		t.Errorf("stream answered %d requests, want the 2 within b's burst", len(ids))
	}
	wantLimit(t, err, `request "1": limit exceeded: rate: client b exceeded 1 samples/s (burst 4)`)
	if got := rejections(t, e, "rate"); got != 3 {
		t.Errorf("rejections{limit=rate} = %v, want 3", got)
	}
}
