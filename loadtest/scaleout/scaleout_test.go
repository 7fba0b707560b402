package scaleout

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/loadtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// detect selects the Detect stream's series among the per-RPC metrics.
var detect = []string{`grpc_method="Detect"`, `grpc_service="astraguard.v1.DetectorService"`}

func TestScaleOutSurvivesAnInstanceStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three service processes")
	}
	bin := buildService(t)
	tests := []struct {
		name string
		// stop takes the victim out mid-run and reports whether it surely
		// died holding requests it never answered, which the client must
		// re-send.
		stop func(ctx context.Context, t *testing.T, victim *instance, tl *tally) bool
	}{
		{"killed", func(ctx context.Context, t *testing.T, victim *instance, tl *tally) bool {
			// Frozen first, then killed, the victim dies holding requests
			// it read or that wait in its socket, unanswered. A request
			// sent to it once all its threads are stopped is surely one of
			// them. At 200 requests/s per stream, the next is due within
			// 5ms, unless the windows of its streams were already full.
			victim.freeze(t)
			waitStopped(t, victim)
			before, _ := tl.sendsTo(victim.grpcAddr)
			sure := tl.waitSendTo(ctx, victim.grpcAddr, before, 10*time.Second)
			victim.kill(t)
			return sure
		}},
		{"drained", func(_ context.Context, t *testing.T, victim *instance, _ *tally) bool {
			// SIGTERM: the victim stops taking new streams and gives the
			// open ones its 1s grace period, then cuts them mid-run.
			victim.terminate(t)
			return false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { scaleOut(t, bin, tt.stop) })
	}
}

// scaleOut runs the load over three instances and stops one mid-run.
func scaleOut(t *testing.T, bin string, stop func(context.Context, *testing.T, *instance, *tally) bool) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var ins [3]*instance
	addrs := make([]string, len(ins))
	for i := range ins {
		ins[i] = startInstance(t, bin, fmt.Sprintf("instance %c", 'A'+i))
		addrs[i] = ins[i].grpcAddr
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	cc, err := loadtest.NewClient(addrs)
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	defer cc.Close()
	waitAllPicked(ctx, t, cc, len(addrs))

	// Six streams over three instances: round_robin gives each two. Each
	// stream issues 400 requests of 20 samples, paced so that the run
	// lasts two seconds or more however fast the machine is: the kill
	// below lands mid-run.
	const streams, requests, perRequest = 6, 400, 20
	cfg := loadtest.ResilientConfig{
		ThroughputConfig: loadtest.ThroughputConfig{
			Shape:   loadtest.Shape{SeriesPerRequest: 5, SamplesPerSeries: 4},
			Streams: streams, Window: 8, Requests: requests,
		},
		Rate: streams * perRequest * 200,
	}
	w, err := loadtest.NewWorkload(60, time.Now().Add(-24*time.Hour), time.Second)
	if err != nil {
		t.Fatalf("NewWorkload() = %v", err)
	}
	type outcome struct {
		r   loadtest.Result
		err error
	}
	done := make(chan outcome, 1)
	tl := &tally{DetectorServiceClient: astraguardv1.NewDetectorServiceClient(cc)}
	go func() {
		r, err := loadtest.Resilient(ctx, tl, w.Split(streams), cfg)
		done <- outcome{r, err}
	}()

	victim := ins[1]
	answered := waitMetric(ctx, t, hc, victim, "astraguard_grpc_server_msg_sent_total", 20)
	onVictim := metric(ctx, t, hc, victim, "astraguard_grpc_server_started_total")
	wantResent := stop(ctx, t, victim, tl)
	t.Logf("stopped %s after it answered %.0f requests on %.0f streams (surely holding unanswered ones: %v)", victim.name, answered, onVictim, wantResent)

	var res outcome
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatalf("run did not finish: %v", ctx.Err())
	}
	r := res.r
	if res.err != nil {
		t.Fatalf("Resilient() = %v (%+v)", res.err, r)
	}
	t.Logf("sent %d samples, answered %d (model %d, heuristic %d, errors %d), %d reconnects, %d samples re-sent, lost %d",
		r.Sent, r.Samples, r.Model, r.Heuristic, r.Errored, r.Reconnects, r.Resent, r.Lost)

	const want = streams * requests * perRequest
	if r.Sent != want || r.Samples != want || r.Requests != streams*requests {
		t.Errorf("issued %d samples, answered %d in %d responses; want %d in %d: every sample answered", r.Sent, r.Samples, r.Requests, want, streams*requests)
	}
	if r.Lost != 0 || r.Duplicates != 0 || r.Mismatched != 0 {
		t.Errorf("lost %d, duplicates %d, mismatched %d; want none: each request answered exactly once", r.Lost, r.Duplicates, r.Mismatched)
	}
	if r.Errored != 0 {
		t.Errorf("%d verdicts carry a sample error, want none: re-sent samples are new to the instance that gets them", r.Errored)
	}
	switch {
	case wantResent && r.Resent == 0:
		t.Errorf("no sample re-sent; want those the stopped instance held unanswered")
	case !wantResent:
		t.Logf("%d samples re-sent; not checked: the victim may have answered all it got", r.Resent)
	}
	if onVictim < 1 || float64(r.Reconnects) < onVictim {
		t.Errorf("%s had %.0f streams, the client re-opened %d; want each of them moved", victim.name, onVictim, r.Reconnects)
	}
	// The survivors host every logical stream by the end: their own from
	// the start plus the victim's, which moved.
	var survivors float64
	for _, in := range []*instance{ins[0], ins[2]} {
		n := metric(ctx, t, hc, in, "astraguard_grpc_server_started_total")
		if n < 1 {
			t.Errorf("%s got %.0f Detect streams, want some: round_robin spreads them", in.name, n)
		}
		survivors += n
	}
	if survivors < streams {
		t.Errorf("the survivors started %.0f Detect streams, want >= %d: the killed instance's streams moved to them", survivors, streams)
	}
}

// waitAllPicked makes health checks through cc until each of n backends
// answered one, so round_robin has every backend ready before the run and
// spreads its streams over all of them.
func waitAllPicked(ctx context.Context, t *testing.T, cc *grpc.ClientConn, n int) {
	t.Helper()
	seen := map[string]bool{}
	hc := healthpb.NewHealthClient(cc)
	for len(seen) < n {
		var p peer.Peer
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p), grpc.WaitForReady(true))
		if err != nil {
			t.Fatalf("health check through the balanced client: %v (backends seen: %v)", err, seen)
		}
		seen[p.Addr.String()] = true
	}
}

// metric reads the sum of a per-RPC counter for Detect streams.
func metric(ctx context.Context, t *testing.T, hc *http.Client, in *instance, name string) float64 {
	t.Helper()
	b, err := loadtest.Scrape(ctx, hc, "http://"+in.httpAddr+"/metrics")
	if err != nil {
		t.Fatalf("%s: %v", in.name, err)
	}
	v, ok := loadtest.MetricSum(b, name, detect...)
	if !ok {
		t.Fatalf("%s: no %s for Detect in /metrics", in.name, name)
	}
	return v
}

// waitMetric polls a Detect counter until it reaches at least min.
func waitMetric(ctx context.Context, t *testing.T, hc *http.Client, in *instance, name string, min float64) float64 {
	t.Helper()
	for {
		if v := metric(ctx, t, hc, in, name); v >= min {
			return v
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %s stayed under %.0f: %v", in.name, name, min, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
