package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

func newClient(t *testing.T, addrs []string, cfg Config, opts ...Option) *Client {
	t.Helper()
	c, err := New(strings.Join(addrs, ","), cfg, opts...)
	if err != nil {
		t.Fatalf("New(%v) = %v", addrs, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// run sends rounds requests of 2 samples for each of keys series, all
// pipelined, and returns the replica that answered each series' last
// request. It fails the test on any error or a mismatched response.
func run(ctx context.Context, t *testing.T, c *Client, keys, rounds int, t0 int64) map[string]string {
	t.Helper()
	done := make(chan *Call, keys*rounds)
	for r := range rounds {
		for k := range keys {
			if _, err := c.Go(ctx, req(fmt.Sprintf("s%03d", k), t0+int64(2*r), 2), done); err != nil {
				t.Fatalf("Go() = %v", err)
			}
		}
	}
	owner := map[string]string{}
	ids := map[string]bool{}
	for range keys * rounds {
		var call *Call
		select {
		case call = <-done:
		case <-ctx.Done():
			t.Fatalf("calls unanswered: %v", ctx.Err())
		}
		if call.Err != nil {
			t.Fatalf("call %s: %v", call.Request.GetRequestId(), call.Err)
		}
		id := call.Response.GetRequestId()
		if id != call.Request.GetRequestId() || len(call.Response.GetVerdicts()) != 2 || ids[id] {
			t.Fatalf("call %s answered by %q with %d verdicts (seen before: %v)", call.Request.GetRequestId(), id, len(call.Response.GetVerdicts()), ids[id])
		}
		ids[id] = true
		owner[call.Request.GetSeries()[0].GetSeriesId()] = call.Replica
	}
	return owner
}

func count(owner map[string]string) map[string]int {
	n := map[string]int{}
	for _, r := range owner {
		n[r]++
	}
	return n
}

// keysOn checks that every key reached exactly one server.
func keysOn(t *testing.T, servers []*echo) int {
	t.Helper()
	seen := map[string]int{}
	for i, s := range servers {
		for k := range s.keySet() {
			if j, ok := seen[k]; ok {
				t.Errorf("key %q reached servers %d and %d, want one", k, j, i)
			}
			seen[k] = i
		}
	}
	return len(seen)
}

func TestEverySeriesOnOneReplica(t *testing.T) {
	servers := []*echo{{}, {}, {}}
	var addrs []string
	for _, s := range servers {
		a, _ := serve(t, s)
		addrs = append(addrs, a)
	}
	reg := prometheus.NewPedanticRegistry()
	c := newClient(t, addrs, Config{}, WithRegisterer(reg))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	const keys = 60
	owner := run(ctx, t, c, keys, 5, 1)
	if n := keysOn(t, servers); n != keys {
		t.Errorf("%d keys reached the servers, want %d", n, keys)
	}
	per := count(owner)
	t.Logf("series per replica: %v", per)
	for _, a := range addrs {
		if per[a] < keys/10 {
			t.Errorf("replica %s holds %d of %d series, want a share of them (ring_hash spreads keys)", a, per[a], keys)
		}
	}
	if st := c.Stats(); st.StreamsOpened != keys || st.StreamsReopened != 0 || st.RequestsResent != 0 || st.Duplicates != 0 {
		t.Errorf("Stats() = %+v, want %d streams opened, nothing re-opened, re-sent or duplicated", st, keys)
	}
	if got := testutil.ToFloat64(mustVec(t, reg, "astraguard_client_streams_opened_total")); got != keys {
		t.Errorf("astraguard_client_streams_opened_total = %v, want %d", got, keys)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("GatherAndLint() = %v, %v", problems, err)
	}
}

// mustVec sums a counter family from reg.
func mustVec(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "sum"})
	g.Set(sum)
	return g
}

// TestReplicaLossMovesOnlyItsSeries stops one of three servers mid-run:
// every call is still answered exactly once, the stopped server's series
// move, and no other series does.
func TestReplicaLossMovesOnlyItsSeries(t *testing.T) {
	servers := []*echo{{}, {}, {}}
	var addrs []string
	var stops []func()
	for _, s := range servers {
		a, stop := serve(t, s)
		addrs, stops = append(addrs, a), append(stops, stop)
	}
	c := newClient(t, addrs, Config{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	const keys = 60
	before := run(ctx, t, c, keys, 3, 1)

	var wg sync.WaitGroup
	var after map[string]string
	wg.Go(func() { after = run(ctx, t, c, keys, 20, 100) })
	stops[1]()
	wg.Wait()
	if t.Failed() {
		return
	}
	// A key may still have been answered by server 1 if it finished first;
	// one more round is after the stop for sure.
	after = run(ctx, t, c, keys, 1, 1000)
	moved, stray := 0, 0
	for k, r := range before {
		switch {
		case r == addrs[1] && after[k] == addrs[1]:
			t.Errorf("series %s still answered by the stopped replica", k)
		case r == addrs[1]:
			moved++
		case after[k] != r:
			stray++
		}
	}
	t.Logf("moved %d of %d series (stopped replica held %d); stats %+v", moved, keys, count(before)[addrs[1]], c.Stats())
	if moved == 0 || stray != 0 {
		t.Errorf("moved %d series off the stopped replica and %d others; want some, and no others", moved, stray)
	}
}

func TestFailingStreamsResendInOrder(t *testing.T) {
	srv := &echo{failAfter: 3, failWith: status.Error(codes.Unavailable, "going away")}
	a, _ := serve(t, srv)
	c := newClient(t, []string{a}, Config{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan *Call, 40)
	for i := range 40 {
		if _, err := c.Go(ctx, req("sat1/voltage", int64(i), 1), done); err != nil {
			t.Fatalf("Go() = %v", err)
		}
	}
	for i := range 40 {
		call := <-done
		want := fmt.Sprintf("agc-%d", i+1)
		if call.Err != nil || call.Response.GetRequestId() != want {
			t.Fatalf("call %d = %q, %v; want %s answered, in order", i, call.Response.GetRequestId(), call.Err, want)
		}
	}
	st := c.Stats()
	t.Logf("Stats() = %+v", st)
	if st.StreamsReopened < 40/3-1 || st.RequestsResent == 0 || st.SamplesResent != st.RequestsResent {
		t.Errorf("Stats() = %+v, want >= %d re-opens and some requests re-sent (1 sample each)", st, 40/3-1)
	}
}

func TestDuplicatesDropped(t *testing.T) {
	a, _ := serve(t, &echo{dup: true})
	reg := prometheus.NewPedanticRegistry()
	c := newClient(t, []string{a}, Config{}, WithRegisterer(reg))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	run(ctx, t, c, 2, 5, 1)
	// The last duplicate may still be on its way.
	for c.Stats().Duplicates < 10 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	want := fmt.Sprintf(`
# HELP astraguard_client_duplicate_responses_total Responses dropped because their request was already answered, by replica.
# TYPE astraguard_client_duplicate_responses_total counter
astraguard_client_duplicate_responses_total{replica=%q} 10
`, a)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "astraguard_client_duplicate_responses_total"); err != nil {
		t.Error(err)
	}
}

func TestGivesUp(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		streams int64
	}{
		{"not retryable", status.Error(codes.InvalidArgument, "bad"), 1},
		{"attempts used up", status.Error(codes.Unavailable, "down"), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &failing{err: tt.err}
			a, _ := serve(t, srv)
			c := newClient(t, []string{a}, Config{Backoff: time.Millisecond, MaxAttempts: 3})
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			_, err := c.Detect(ctx, req("k", 2, 1))
			if status.Code(err) != status.Code(tt.err) {
				t.Errorf("Detect() = %v, want code %v", err, status.Code(tt.err))
			}
			if got := srv.streams.Load(); got != tt.streams {
				t.Errorf("server saw %d streams, want %d: the first and MaxAttempts re-opens of retryable errors", got, tt.streams)
			}
		})
	}
}

func TestGoErrors(t *testing.T) {
	a, _ := serve(t, &echo{})
	c := newClient(t, []string{a}, Config{MaxPending: 1})
	ctx := t.Context()
	mixed := req("a", 1, 1)
	mixed.Series = append(mixed.Series, req("b", 1, 1).Series...)
	if _, err := c.Go(ctx, mixed, nil); !errors.Is(err, ErrMixedKeys) {
		t.Errorf("Go(two series) = %v, want ErrMixedKeys", err)
	}
	if _, err := c.Go(ctx, &astraguardv1.DetectRequest{}, nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("Go(empty) = %v, want ErrNoKey", err)
	}
	r := req("a", 1, 1)
	r.RequestId = "same"
	if _, err := c.Detect(ctx, r); err != nil {
		t.Fatalf("Detect() = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if _, err := c.Go(ctx, req("a", 2, 1), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Go() after Close = %v, want ErrClosed", err)
	}
}

func TestGoWaitsForRoom(t *testing.T) {
	// A server that never answers keeps the first call pending.
	b, _ := serve(t, blackhole{})
	c2 := newClient(t, []string{b}, Config{MaxPending: 1})
	first, err := c2.Go(t.Context(), req("k", 1, 1), nil)
	if err != nil {
		t.Fatalf("Go() = %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := c2.Go(ctx, req("k", 2, 1), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Go() beyond MaxPending = %v, want the context's error", err)
	}
	if _, err := c2.Go(t.Context(), req("other", 1, 1), nil); err != nil {
		t.Errorf("Go() on another key = %v, want room: the cap is per partition", err)
	}
	if err := c2.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if call := <-first.Done; !errors.Is(call.Err, ErrClosed) {
		t.Errorf("pending call after Close: %v, want ErrClosed", call.Err)
	}
}

// failing ends every stream with err at its first request.
type failing struct {
	astraguardv1.UnimplementedDetectorServiceServer
	err     error
	streams atomic.Int64
}

func (f *failing) Detect(s astraguardv1.DetectorService_DetectServer) error {
	f.streams.Add(1)
	if _, err := s.Recv(); err != nil {
		return nil
	}
	return f.err
}

// blackhole reads requests and never answers.
type blackhole struct {
	astraguardv1.UnimplementedDetectorServiceServer
}

func (blackhole) Detect(s astraguardv1.DetectorService_DetectServer) error {
	for {
		if _, err := s.Recv(); err != nil {
			return nil
		}
	}
}

func TestSetAddrsMovesAboutAQuarter(t *testing.T) {
	servers := []*echo{{}, {}, {}, {}}
	var addrs []string
	for _, s := range servers {
		a, _ := serve(t, s)
		addrs = append(addrs, a)
	}
	c := newClient(t, addrs[:3], Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	const keys = 200
	before := run(ctx, t, c, keys, 2, 1)
	if err := c.SetAddrs(addrs); err != nil {
		t.Fatalf("SetAddrs() = %v", err)
	}
	after := run(ctx, t, c, keys, 2, 100)
	moved := 0
	for k, r := range before {
		switch {
		case after[k] == addrs[3]:
			moved++
		case after[k] != r:
			t.Errorf("series %s moved from %s to %s, want only moves to the new replica", k, r, after[k])
		}
	}
	share := float64(moved) / keys
	t.Logf("moved %d of %d series (%.2f) to the fourth replica", moved, keys, share)
	if share < 0.10 || share > 0.40 {
		t.Errorf("moved share %.2f, want about 1/4 (0.10..0.40)", share)
	}
}

func TestEncodeKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sat1/voltage", "sat1/voltage"},
		{"50%", "50%25"},
		{"température", "temp%C3%A9rature"},
		{"a\nb", "a%0Ab"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := EncodeKey(tt.in); got != tt.want {
			t.Errorf("EncodeKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, target := range []string{"", "a:1,,b:2", "nosuch:///x", "a b:1"} {
		if c, err := New(target, Config{}); err == nil {
			_ = c.Close()
			t.Errorf("New(%q) = nil error, want one", target)
		}
	}
}

// TestIdleStreamCloses: a stream with nothing pending for IdleTimeout ends,
// and the next call opens a new one.
func TestIdleStreamCloses(t *testing.T) {
	srv := &echo{}
	a, _ := serve(t, srv)
	c := newClient(t, []string{a}, Config{IdleTimeout: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := c.Detect(ctx, req("k", 1, 1)); err != nil {
		t.Fatalf("Detect() = %v", err)
	}
	for srv.ended() == 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Detect(ctx, req("k", 2, 1)); err != nil {
		t.Fatalf("Detect() after idle = %v", err)
	}
	if st := c.Stats(); st.StreamsOpened != 2 || st.StreamsReopened != 0 {
		t.Errorf("Stats() = %+v, want 2 streams opened (idle close is no failure), none re-opened", st)
	}
}

// TestDNSTarget resolves localhost through gRPC's DNS resolver (from the
// hosts file, no network).
func TestDNSTarget(t *testing.T) {
	a, _ := serve(t, &echo{})
	_, port, _ := strings.Cut(a, ":")
	c, err := New("dns:///localhost:"+port, Config{})
	if err != nil {
		t.Fatalf("New(dns) = %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := c.Detect(ctx, req("k", 1, 1)); err != nil {
		t.Fatalf("Detect() = %v", err)
	}
	if err := c.SetAddrs([]string{a}); err == nil {
		t.Errorf("SetAddrs() on a DNS client = nil error, want one")
	}
}

// TestCloseWhileNoReplica: Close returns while a stream waits for a
// replica that never comes, and fails the pending call.
func TestCloseWhileNoReplica(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close() // accepts, never speaks HTTP/2: the channel stays connecting
	c, err := New(lis.Addr().String(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	call, err := c.Go(t.Context(), req("k", 1, 1), nil)
	if err != nil {
		t.Fatalf("Go() = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if got := <-call.Done; !errors.Is(got.Err, ErrClosed) {
		t.Errorf("pending call after Close: %v, want ErrClosed", got.Err)
	}
}

// TestResolveIntervalFloor: a ResolveInterval of a few nanoseconds would
// make the re-resolve ticker spin a core; it is raised to
// MinResolveInterval, and the default and longer values stand.
func TestResolveIntervalFloor(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{0, 30 * time.Second},
		{-time.Second, 30 * time.Second},
		{time.Nanosecond, MinResolveInterval},
		{MinResolveInterval - 1, MinResolveInterval},
		{2 * time.Minute, 2 * time.Minute},
	} {
		if got := (Config{ResolveInterval: tc.in}).withDefaults().ResolveInterval; got != tc.want {
			t.Errorf("ResolveInterval %v became %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestMetricsForgetReplicasThatLeft: the replica label of the client's
// metrics names the replicas of the current set only. A replica removed
// from the set (SetAddrs here; a DNS answer without it, as after a
// rollout) loses its series; before, every address the client ever
// reached kept one for good, so a long-lived client behind a headless
// service gained a series per pod per rollout.
func TestMetricsForgetReplicasThatLeft(t *testing.T) {
	servers := []*echo{{}, {}}
	var addrs []string
	for _, s := range servers {
		a, _ := serve(t, s)
		addrs = append(addrs, a)
	}
	reg := prometheus.NewPedanticRegistry()
	c := newClient(t, addrs, Config{}, WithRegisterer(reg))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	const keys = 40
	replicas := func() map[string]bool {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "replica" {
						seen[l.GetValue()] = true
					}
				}
			}
		}
		return seen
	}
	if per := count(run(ctx, t, c, keys, 2, 1)); per[addrs[1]] == 0 {
		t.Fatalf("no series on %s: %v", addrs[1], per)
	}
	if got := replicas(); !got[addrs[0]] || !got[addrs[1]] {
		t.Fatalf("replica labels %v, want both %v", got, addrs)
	}
	if err := c.SetAddrs(addrs[:1]); err != nil {
		t.Fatalf("SetAddrs() = %v", err)
	}
	if per := count(run(ctx, t, c, keys, 2, 100)); per[addrs[1]] != 0 {
		t.Fatalf("series still answered by the removed replica: %v", per)
	}
	if got := replicas(); !got[addrs[0]] || got[addrs[1]] {
		t.Errorf("replica labels %v after %s left the set, want %s only", got, addrs[1], addrs[0])
	}
}
