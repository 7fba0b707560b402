package server

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

func (e *env) health(t *testing.T) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := healthpb.NewHealthClient(e.conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health Check() error = %v", err)
	}
	return resp.GetStatus()
}

// TestGracefulShutdownDrainsOpenStream checks the shutdown order: health
// turns NOT_SERVING while an open stream is still answered, and Shutdown
// returns once the client finishes, before the grace period ends.
func TestGracefulShutdownDrainsOpenStream(t *testing.T) {
	e := newEnv(t, Config{})
	if got := e.health(t); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, want SERVING", got)
	}
	stream, err := e.detect.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	send := func(id string) {
		t.Helper()
		if err := stream.Send(&astraguardv1.DetectRequest{RequestId: id, Series: e.batch("s", 0, 1).GetSeries()}); err != nil {
			t.Fatal(err)
		}
		if resp, err := stream.Recv(); err != nil || resp.GetRequestId() != id {
			t.Fatalf("Recv() = %v, %v, want response %s", resp, err, id)
		}
	}
	send("before")

	// Watch streams never end by themselves, so this one is cancelled once
	// it has seen NOT_SERVING, as a real health client would on its way out.
	wctx, wcancel := context.WithCancel(t.Context())
	defer wcancel()
	watch, err := healthpb.NewHealthClient(e.conn).Watch(wctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health watch = %v, %v, want SERVING", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shutdown := make(chan struct{})
	go func() {
		e.srv.Shutdown(ctx)
		close(shutdown)
	}()
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health watch during shutdown = %v, %v, want NOT_SERVING", resp, err)
	}
	wcancel()
	send("during drain")
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv() after CloseSend = %v, want EOF", err)
	}
	<-shutdown
	if ctx.Err() != nil {
		t.Error("Shutdown waited for the grace period although the stream had finished")
	}
}

// TestShutdownCutsStreamsAfterGrace checks that a stream that never ends
// cannot hold shutdown past the grace period.
func TestShutdownCutsStreamsAfterGrace(t *testing.T) {
	e := newEnv(t, Config{})
	stream, err := e.detect.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&astraguardv1.DetectRequest{Series: e.batch("s", 0, 1).GetSeries()}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // grace period already over
	e.srv.Shutdown(ctx)
	if _, err := stream.Recv(); err == nil {
		t.Error("Recv() after hard stop succeeded, want an error")
	}
}

func TestMetricsExposeSeedNames(t *testing.T) {
	e := newEnv(t, Config{})
	e.verdictOf(t, 1)
	e.model.mode.Store(modelFail)
	e.verdictOf(t, 1)
	e.verdictOf(t, 1) // trips
	e.verdictOf(t, 1) // rejected: heuristic
	e.clock.Advance(4 * time.Second)

	for _, tt := range []struct {
		name string
		want float64
	}{
		{"astraguard_circuit_state", 1},
		{"astraguard_circuit_failures_total", 2},
		{"astraguard_circuit_successes_total", 1},
		{"astraguard_circuit_trips_total", 1},
		{"astraguard_circuit_recoveries_total", 0},
		{"astraguard_circuit_open_duration_seconds", 4},
	} {
		if got := gatherValue(t, e, tt.name, "model"); got != tt.want {
			t.Errorf("%s{circuit_name=model} = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := gatherValue(t, e, "astraguard_anomaly_detections_total", "heuristic"); got != 3 {
		t.Errorf("heuristic detections = %v, want 3", got)
	}
	if got := gatherValue(t, e, "astraguard_anomaly_detections_total", "model"); got != 1 {
		t.Errorf("model detections = %v, want 1", got)
	}
	if got := gatherValue(t, e, "astraguard_anomaly_model_fallback_activations_total"); got != 3 {
		t.Errorf("fallback activations = %v, want 3", got)
	}
	if n, err := testutil.GatherAndCount(e.reg, "astraguard_grpc_server_handled_total"); err != nil || n == 0 {
		t.Errorf("astraguard_grpc_server_handled_total series = %d, %v, want some", n, err)
	}
	problems, err := testutil.GatherAndLint(e.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
	}
}

func gatherValue(t *testing.T, e *env, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetValue() != labels[i] {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}
