package breakerprom_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/breaker/breakerprom"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestCollector(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	reg, err := breaker.NewRegistry(breaker.Settings{FailureThreshold: 2}, breaker.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	model := reg.Breaker("model")
	_ = model.Execute(func() error { return nil })
	_ = model.Execute(func() error { return boom })
	_ = model.Execute(func() error { return boom }) // trips
	_ = model.Execute(func() error { return nil })  // rejected
	clock.now = clock.now.Add(90 * time.Second)     // open 60s, then HALF_OPEN
	reg.Breaker("aux").ForceClosed("drill", 0)

	promReg := prometheus.NewPedanticRegistry()
	promReg.MustRegister(breakerprom.NewCollector(reg))
	want := `
# HELP astraguard_circuit_failure_ratio Failure ratio of the recent calls in the circuit breaker's window.
# TYPE astraguard_circuit_failure_ratio gauge
astraguard_circuit_failure_ratio{circuit_name="aux"} 0
astraguard_circuit_failure_ratio{circuit_name="model"} 0
# HELP astraguard_circuit_failures_total Calls through the circuit breaker classified as failures.
# TYPE astraguard_circuit_failures_total counter
astraguard_circuit_failures_total{circuit_name="aux"} 0
astraguard_circuit_failures_total{circuit_name="model"} 2
# HELP astraguard_circuit_forced Operator override: 0=none, 1=forced open, 2=forced closed.
# TYPE astraguard_circuit_forced gauge
astraguard_circuit_forced{circuit_name="aux"} 2
astraguard_circuit_forced{circuit_name="model"} 0
# HELP astraguard_circuit_ignored_total Call outcomes the circuit breaker ignored, such as caller cancellations.
# TYPE astraguard_circuit_ignored_total counter
astraguard_circuit_ignored_total{circuit_name="aux"} 0
astraguard_circuit_ignored_total{circuit_name="model"} 0
# HELP astraguard_circuit_open_duration_seconds Time the circuit breaker has spent open, in seconds; only grows.
# TYPE astraguard_circuit_open_duration_seconds gauge
astraguard_circuit_open_duration_seconds{circuit_name="aux"} 0
astraguard_circuit_open_duration_seconds{circuit_name="model"} 60
# HELP astraguard_circuit_recoveries_total Times the circuit breaker closed again after opening.
# TYPE astraguard_circuit_recoveries_total counter
astraguard_circuit_recoveries_total{circuit_name="aux"} 0
astraguard_circuit_recoveries_total{circuit_name="model"} 0
# HELP astraguard_circuit_rejected_total Calls the circuit breaker refused.
# TYPE astraguard_circuit_rejected_total counter
astraguard_circuit_rejected_total{circuit_name="aux"} 0
astraguard_circuit_rejected_total{circuit_name="model"} 1
# HELP astraguard_circuit_state Circuit breaker state: 0=CLOSED, 1=OPEN, 2=HALF_OPEN.
# TYPE astraguard_circuit_state gauge
astraguard_circuit_state{circuit_name="aux"} 0
astraguard_circuit_state{circuit_name="model"} 2
# HELP astraguard_circuit_successes_total Calls through the circuit breaker classified as successes.
# TYPE astraguard_circuit_successes_total counter
astraguard_circuit_successes_total{circuit_name="aux"} 0
astraguard_circuit_successes_total{circuit_name="model"} 1
# HELP astraguard_circuit_trips_total Times the circuit breaker opened.
# TYPE astraguard_circuit_trips_total counter
astraguard_circuit_trips_total{circuit_name="aux"} 0
astraguard_circuit_trips_total{circuit_name="model"} 1
`
	if err := testutil.GatherAndCompare(promReg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorFailureRatioAndOpenSpell(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	reg, err := breaker.NewRegistry(breaker.Settings{FailureThreshold: 3}, breaker.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	b := reg.Breaker("model")
	for _, err := range []error{nil, errors.New("x"), nil, errors.New("x")} {
		_ = b.Execute(func() error { return err })
	}
	c := breakerprom.NewCollector(reg)
	want := `
# HELP astraguard_circuit_failure_ratio Failure ratio of the recent calls in the circuit breaker's window.
# TYPE astraguard_circuit_failure_ratio gauge
astraguard_circuit_failure_ratio{circuit_name="model"} 0.5
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "astraguard_circuit_failure_ratio"); err != nil {
		t.Fatal(err)
	}
	b.ForceOpen("maintenance", 0)
	clock.now = clock.now.Add(2500 * time.Millisecond) // the current open spell counts
	want = `
# HELP astraguard_circuit_open_duration_seconds Time the circuit breaker has spent open, in seconds; only grows.
# TYPE astraguard_circuit_open_duration_seconds gauge
astraguard_circuit_open_duration_seconds{circuit_name="model"} 2.5
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "astraguard_circuit_open_duration_seconds"); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorLint(t *testing.T) {
	reg, err := breaker.NewRegistry(breaker.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	reg.Breaker("model")
	problems, err := testutil.CollectAndLint(breakerprom.NewCollector(reg))
	if err != nil {
		t.Fatalf("CollectAndLint() = %v", err)
	}
	for _, p := range problems {
		t.Errorf("CollectAndLint() problem: %v", p)
	}
}
