package chaos

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/loadtest"
)

// The load: numSeries series split over two pipelined streams and one
// lockstep stream. The lockstep stream measures verdict latency: with one
// request in flight its latency is its own, never time queued behind a
// slow probe that shares its stream.
const (
	numSeries     = 9
	latencyStream = 2
)

func loadSpecs(feeds []*loadtest.Feed) []streamSpec {
	return []streamSpec{
		{feed: feeds[0], series: 3, perSeries: 10, window: 4, pace: 2 * time.Millisecond},
		{feed: feeds[1], series: 3, perSeries: 10, window: 4, pace: 2 * time.Millisecond},
		latencyStream: {feed: feeds[2], series: 3, perSeries: 2, window: 1, pace: 2 * time.Millisecond},
	}
}

const (
	// warmTimeout bounds waiting for every series to be scored by the
	// model (300 samples each, at start and after a restart).
	warmTimeout = 60 * time.Second
	// goroutineSlack allows for runtime and connection goroutines that
	// come and go; a leak per stream or per model call is far more.
	goroutineSlack = 5
	pollEvery      = 10 * time.Millisecond
)

// breakerDeadline bounds "the breaker opens" and "the breaker closes by
// itself": ten times the recovery wait plus the probes, plus time for the
// model connection's reconnect backoff (at most 5s in detector/oip). It
// is an upper bound for "stops by itself"; the table reports the measured
// times.
func (s settings) breakerDeadline() time.Duration {
	return 10*(s.recoveryTimeout+time.Duration(s.successThreshold)*s.modelTimeout) + 10*time.Second
}

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos suite: runs real processes under faults for about a minute")
	}
	ph := runPhases()
	var rows []row
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			r := row{name: sc.name}
			defer func() {
				r.result = "ok"
				if t.Failed() {
					r.result = "FAIL"
				}
				rows = append(rows, r)
			}()
			runScenario(t, sc, ph, &r)
		})
	}
	mode := "short phases (make chaos runs long ones)"
	if *fullRun {
		mode = "full phases"
	}
	t.Logf("chaos summary, %s; model timeout %v, failure threshold %d, recovery timeout %v, success threshold %d\n%s",
		mode, runSettings.modelTimeout, runSettings.failureThreshold, runSettings.recoveryTimeout, runSettings.successThreshold, table(rows))
}

// marks are the moments a scenario's analysis cuts the timeline at.
type marks struct {
	base0, base1 time.Time // breaker forced open: the heuristic baseline
	fault        time.Time // fault injected
	clear        time.Time // fault cleared (model server back, for a restart)
}

func runScenario(t *testing.T, sc scenario, ph phases, r *row) {
	ctx := t.Context()
	cfg := runSettings
	deadline := cfg.breakerDeadline()
	e := newEnv(t, cfg)

	// The goroutine baseline: service idle, with our gRPC connection and
	// one metrics connection up.
	if _, err := e.adminView(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	if r.gBefore, err = e.goroutines(ctx); err != nil {
		t.Fatal(err)
	}

	startTotals, err := e.settledTotals(ctx)
	if err != nil {
		t.Fatalf("before the load: %v", err)
	}

	obs := newObserver()
	w, err := loadtest.NewWorkload(numSeries, time.Now().Add(-24*time.Hour), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	specs := loadSpecs(w.Split(3))
	var streams []*stream
	stopStreams := sync.OnceFunc(func() {
		for _, s := range streams {
			s.stop()
		}
		for _, s := range streams {
			s.wait()
		}
	})
	t.Cleanup(stopStreams)
	for i, spec := range specs {
		s, err := startStream(ctx, e.detect, i, spec, obs)
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	allModel := func(context.Context) (bool, error) { return obs.allModel(numSeries), nil }
	closed := func(ctx context.Context) (bool, error) {
		v, err := e.adminView(ctx)
		return v.state == astraguardv1.BreakerState_BREAKER_STATE_CLOSED, err
	}

	if _, err := waitFor(ctx, warmTimeout, pollEvery, allModel); err != nil {
		t.Fatalf("warm-up: not every series scored by the model: %v", err)
	}

	// The heuristic's own cost under the same load, breaker forced open.
	var m marks
	m.base0 = time.Now()
	force(t, e, astraguardv1.Override_OVERRIDE_FORCED_OPEN)
	if err := pause(ctx, ph.baseline); err != nil {
		t.Fatal(err)
	}
	m.base1 = time.Now()
	force(t, e, astraguardv1.Override_OVERRIDE_UNSPECIFIED)
	if _, err := waitFor(ctx, deadline, pollEvery, closed); err != nil {
		t.Fatalf("breaker did not close after the forced-open override was cleared: %v", err)
	}
	if _, err := waitFor(ctx, warmTimeout, pollEvery, allModel); err != nil {
		t.Fatalf("model verdicts did not resume after the forced-open override: %v", err)
	}
	before, err := e.agreedView(ctx)
	if err != nil {
		t.Fatalf("before the fault: %v", err)
	}

	m.fault = time.Now()
	if err := sc.inject(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := waitFor(ctx, deadline, pollEvery, func(ctx context.Context) (bool, error) {
		v, err := e.agreedView(ctx)
		return v.trips > before.trips, err
	}); err != nil {
		t.Fatalf("breaker did not trip after the fault (admin and /metrics agreeing; before: %v): %v", before, err)
	}
	if sc.hold != nil {
		err = sc.hold(ctx, e, ph)
	} else {
		err = pause(ctx, ph.hold)
	}
	if err != nil {
		t.Fatal(err)
	}
	if sc.hold == nil { // a steady fault: probes must keep failing
		v, err := e.agreedView(ctx)
		if err != nil {
			t.Fatalf("while the fault held: %v", err)
		}
		if v.state == astraguardv1.BreakerState_BREAKER_STATE_CLOSED {
			t.Errorf("breaker %v while the model was still failing; want OPEN or HALF_OPEN", v)
		}
	}

	if err := sc.clear(ctx, e); err != nil {
		t.Fatal(err)
	}
	m.clear = time.Now()
	if r.timeToClose, err = waitFor(ctx, deadline, pollEvery, closed); err != nil {
		t.Fatalf("breaker did not close by itself after the fault cleared: %v", err)
	}
	after, err := e.agreedView(ctx)
	if err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	r.trips = after.trips - before.trips
	if after.recoveries <= before.recoveries {
		t.Errorf("breaker closed again but recoveries went %d -> %d", before.recoveries, after.recoveries)
	}
	if _, err := waitFor(ctx, warmTimeout, pollEvery, allModel); err != nil {
		t.Errorf("model verdicts did not resume for every series after the fault: %v", err)
	}

	stopStreams()
	if _, err := waitFor(ctx, 20*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		r.gAfter, err = e.goroutines(ctx)
		return r.gAfter <= r.gBefore+goroutineSlack, err
	}); err != nil {
		t.Errorf("service goroutines %d after the streams closed, %d before them (slack %d): %v", r.gAfter, r.gBefore, goroutineSlack, err)
	}

	endTotals, err := e.settledTotals(ctx)
	if err != nil {
		t.Errorf("after the load: %v", err)
	}
	calls := totals{
		successes: endTotals.successes - startTotals.successes,
		failures:  endTotals.failures - startTotals.failures,
		ignored:   endTotals.ignored - startTotals.ignored,
		rejected:  endTotals.rejected - startTotals.rejected,
	}
	analyze(t, cfg, sc, streams, obs.history(), m, calls, r)
	if sc.restart {
		if n := e.svc.Count("model server restarted"); n == 0 {
			t.Errorf("the service never logged that the model server restarted (its instance_id changed)")
		}
	}
}

// force sets or clears an operator override on the model breaker.
func force(t *testing.T, e *env, o astraguardv1.Override) {
	t.Helper()
	req := &astraguardv1.ForceBreakerRequest{Name: modelBreaker, Override: o}
	if o != astraguardv1.Override_OVERRIDE_UNSPECIFIED {
		req.Reason, req.Ttl = "chaos suite: heuristic baseline", durationpb.New(10*time.Minute)
	}
	if _, err := e.admin.ForceBreaker(t.Context(), req); err != nil {
		t.Fatalf("ForceBreaker(%v): %v", o, err)
	}
}
