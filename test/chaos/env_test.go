package chaos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/test/harness"
)

// settings are the service's model and breaker flags for a run: short,
// so a scenario takes seconds, yet far above the heuristic's cost so that
// "fast while open" stays measurable on a loaded machine.
type settings struct {
	modelTimeout     time.Duration
	failureThreshold int
	recoveryTimeout  time.Duration
	successThreshold int
}

var runSettings = settings{
	modelTimeout:     100 * time.Millisecond,
	failureThreshold: 3,
	recoveryTimeout:  500 * time.Millisecond,
	successThreshold: 2,
}

// modelBreaker is the breaker that guards the model in cmd/astraguard.
const modelBreaker = "model"

// env is one scenario's world: a model server process, the in-process
// toxiproxy in front of it, the service process pointed at the proxy, and
// a client connection to the service.
type env struct {
	cfg       settings
	model     *harness.Process // replaced when the scenario restarts it
	modelAddr string           // the model server's gRPC address, kept across restarts
	proxy     *toxiproxy.Proxy
	svc       *harness.Process
	conn      *grpc.ClientConn
	detect    astraguardv1.DetectorServiceClient
	admin     astraguardv1.BreakerAdminClient
	modelRuns int // model server processes started
}

func newEnv(t *testing.T, cfg settings) *env {
	t.Helper()
	e := &env{cfg: cfg}

	var err error
	if e.model, err = e.startModel("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	e.modelAddr = e.model.GRPCAddr
	t.Cleanup(func() {
		if err := e.model.Stop(10 * time.Second); err != nil {
			t.Errorf("model server shutdown: %v", err)
		}
	})

	toxics := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	e.proxy = toxiproxy.NewProxy(toxics, "model", "127.0.0.1:0", e.modelAddr)
	if err := e.proxy.Start(); err != nil {
		t.Fatalf("start toxiproxy: %v", err)
	}
	t.Cleanup(func() {
		e.proxy.Toxics.ResetToxics(context.Background())
		e.proxy.Stop()
	})

	e.svc, err = harness.Launch(harness.Binary(t, "astraguard"), "astraguard",
		"--model-addr="+e.proxy.Listen,
		"--model-timeout="+cfg.modelTimeout.String(),
		"--failure-threshold="+strconv.Itoa(cfg.failureThreshold),
		"--recovery-timeout="+cfg.recoveryTimeout.String(),
		"--success-threshold="+strconv.Itoa(cfg.successThreshold),
		"--grace-period=5s",
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.svc.Stop(15 * time.Second); err != nil {
			t.Errorf("service shutdown: %v\n%s", err, e.svc.Tail())
		}
	})

	e.conn, err = grpc.NewClient(e.svc.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%s): %v", e.svc.GRPCAddr, err)
	}
	t.Cleanup(func() { _ = e.conn.Close() })
	e.detect = astraguardv1.NewDetectorServiceClient(e.conn)
	e.admin = astraguardv1.NewBreakerAdminClient(e.conn)
	return e
}

func (e *env) startModel(addr string) (*harness.Process, error) {
	e.modelRuns++
	bin, err := harness.Build("astraguard-model")
	if err != nil {
		return nil, err
	}
	return harness.Launch(bin[0], fmt.Sprintf("astraguard-model#%d", e.modelRuns), "--grpc-addr="+addr, "--grace-period=2s")
}

// restartModel starts a new model server on the old one's address, the
// way a supervisor restarts a crashed process. The port was just freed,
// so a failed bind is retried briefly.
func (e *env) restartModel(ctx context.Context) error {
	var err error
	for range 20 {
		var p *harness.Process
		if p, err = e.startModel(e.modelAddr); err == nil {
			e.model = p
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

// breakerView is the part of the breaker both admin and metrics expose.
type breakerView struct {
	state      astraguardv1.BreakerState
	trips      uint64
	recoveries uint64
}

func (v breakerView) String() string {
	return fmt.Sprintf("%s trips=%d recoveries=%d", strings.TrimPrefix(v.state.String(), "BREAKER_STATE_"), v.trips, v.recoveries)
}

func (e *env) adminView(ctx context.Context) (breakerView, error) {
	resp, err := e.admin.GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: modelBreaker})
	if err != nil {
		return breakerView{}, fmt.Errorf("GetBreaker(%q): %w", modelBreaker, err)
	}
	b := resp.GetBreaker()
	return breakerView{state: b.GetState(), trips: b.GetTrips(), recoveries: b.GetRecoveries()}, nil
}

// metricsView reads the same breaker from /metrics.
func (e *env) metricsView(ctx context.Context) (breakerView, error) {
	m, err := e.scrape(ctx)
	if err != nil {
		return breakerView{}, err
	}
	label := `{circuit_name="` + modelBreaker + `"}`
	var v breakerView
	for name, dst := range map[string]*uint64{"astraguard_circuit_trips_total": &v.trips, "astraguard_circuit_recoveries_total": &v.recoveries} {
		f, ok := m[name+label]
		if !ok {
			return v, fmt.Errorf("/metrics has no %s%s", name, label)
		}
		*dst = uint64(f)
	}
	st, ok := m["astraguard_circuit_state"+label]
	if !ok {
		return v, fmt.Errorf("/metrics has no astraguard_circuit_state%s", label)
	}
	// The metric is 0=CLOSED 1=OPEN 2=HALF_OPEN (SPEC); the enum is shifted by one.
	switch st {
	case 0:
		v.state = astraguardv1.BreakerState_BREAKER_STATE_CLOSED
	case 1:
		v.state = astraguardv1.BreakerState_BREAKER_STATE_OPEN
	case 2:
		v.state = astraguardv1.BreakerState_BREAKER_STATE_HALF_OPEN
	default:
		return v, fmt.Errorf("astraguard_circuit_state%s = %v, want 0, 1 or 2", label, st)
	}
	return v, nil
}

// agreedView reads the breaker through admin, then metrics, then admin
// again, until both admin reads match (nothing moved in between); it
// returns that view or the reason admin and metrics disagree. A breaker
// that flips between reads is retried, so only a lasting disagreement
// counts.
func (e *env) agreedView(ctx context.Context) (breakerView, error) {
	var last error
	for range 50 {
		a1, err := e.adminView(ctx)
		if err != nil {
			return a1, err
		}
		m, err := e.metricsView(ctx)
		if err != nil {
			return m, err
		}
		a2, err := e.adminView(ctx)
		if err != nil {
			return a2, err
		}
		if a1 != a2 {
			continue
		}
		if a1 == m {
			return a1, nil
		}
		last = fmt.Errorf("admin says %v, /metrics says %v", a1, m)
	}
	if last == nil {
		last = errors.New("the breaker never held still for three reads")
	}
	return breakerView{}, last
}

// totals are the breaker's outcome counters.
type totals struct {
	successes, failures, ignored, rejected uint64
}

// settledTotals reads the totals through admin once the load has stopped,
// and checks that /metrics exports the same successes and failures.
func (e *env) settledTotals(ctx context.Context) (totals, error) {
	resp, err := e.admin.GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: modelBreaker})
	if err != nil {
		return totals{}, fmt.Errorf("GetBreaker(%q): %w", modelBreaker, err)
	}
	bt := resp.GetBreaker().GetTotals()
	tt := totals{successes: bt.GetSuccesses(), failures: bt.GetFailures(), ignored: bt.GetIgnored(), rejected: bt.GetRejected()}
	m, err := e.scrape(ctx)
	if err != nil {
		return tt, err
	}
	label := `{circuit_name="` + modelBreaker + `"}`
	for name, want := range map[string]uint64{"astraguard_circuit_successes_total": tt.successes, "astraguard_circuit_failures_total": tt.failures} {
		if got, ok := m[name+label]; !ok || uint64(got) != want {
			return tt, fmt.Errorf("/metrics %s%s = %v (present %v), admin totals say %d", name, label, got, ok, want)
		}
	}
	return tt, nil
}

// goroutines reads go_goroutines from the service's /metrics.
func (e *env) goroutines(ctx context.Context) (int, error) {
	m, err := e.scrape(ctx)
	if err != nil {
		return 0, err
	}
	g, ok := m["go_goroutines"]
	if !ok {
		return 0, errors.New("/metrics has no go_goroutines")
	}
	return int(g), nil
}

// scrape reads the service's /metrics into "name{labels}" -> value, the
// text exposition format's own spelling of a sample.
func (e *env) scrape(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := harness.ScrapeMetrics(ctx, e.svc.HTTPAddr)
	if err != nil {
		return nil, err
	}
	return harness.Samples(b)
}

// waitFor polls cond every interval until it holds, fails, or timeout
// passes, and returns how long that took.
func waitFor(ctx context.Context, timeout, interval time.Duration, cond func(context.Context) (bool, error)) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, err := cond(ctx)
		if err != nil {
			return time.Since(start), err
		}
		if ok {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("not within %v", timeout)
		case <-tick.C:
		}
	}
}
