package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseConfig(t *testing.T) {
	env := map[string]string{"ASTRAGUARD_GRPC_ADDR": "127.0.0.1:1", "ASTRAGUARD_BREAKER_PRESET": "strict"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := parseConfig([]string{"--grpc-addr=127.0.0.1:2", "--failure-threshold=7"}, lookup, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig() error = %v", err)
	}
	if cfg.grpcAddr != "127.0.0.1:2" || cfg.breakerPreset != "strict" {
		t.Errorf("config = %+v, want the flag to beat the environment and the env preset kept", cfg)
	}
	s, err := breakerSettings(cfg)
	if err != nil || s.FailureThreshold != 7 || s.RecoveryTimeout != 10*time.Second || s.SuccessThreshold != 1 {
		t.Errorf("breakerSettings() = %+v, %v, want strict with 7 failures", s, err)
	}
	for _, args := range [][]string{{"--model-timeout=0s"}, {"--breaker-preset=nope"}, {"extra"}, {"--failure-threshold=-1"}} {
		cfg, err := parseConfig(args, lookup, io.Discard)
		if err == nil {
			_, err = breakerSettings(cfg)
		}
		if err == nil {
			t.Errorf("parseConfig(%q) error = nil, want an error", args)
		}
	}
	if _, err := parseConfig(nil, func(k string) (string, bool) {
		return "notaduration", k == "ASTRAGUARD_MODEL_TIMEOUT"
	}, io.Discard); err == nil || !strings.Contains(err.Error(), "ASTRAGUARD_MODEL_TIMEOUT") {
		t.Errorf("bad env error = %v, want one naming the variable", err)
	}
}

// syncBuffer is a log sink safe for the service's concurrent writes; a
// reader can wait for the next write through Changed.
type syncBuffer = testkit.SyncBuffer

// servingLine is the service's "serving" log line: the addresses its
// listeners got.
type servingLine struct {
	Msg   string `json:"msg"`
	GRPC  string `json:"grpc_addr"`
	HTTP  string `json:"http_addr"`
	Admin string `json:"admin_addr"`
}

// startRun runs the service with args on its own goroutine and waits for
// its "serving" line. Give every listener 127.0.0.1:0: the line names the
// ports they got, so no port is picked first and raced for. The returned
// channel yields run's result; cancel ctx to end it.
func startRun(t *testing.T, ctx context.Context, logs *syncBuffer, args ...string) (servingLine, <-chan error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, logs) }()
	timeout := time.After(30 * time.Second)
	for {
		changed := logs.Changed()
		for line := range strings.Lines(logs.String()) {
			var s servingLine
			if json.Unmarshal([]byte(line), &s) == nil && s.Msg == "serving" {
				return s, done
			}
		}
		select {
		case <-changed:
		case err := <-done:
			t.Fatalf("run() = %v before serving; logs:\n%s", err, logs.String())
		case <-timeout:
			t.Fatalf("not serving after 30s; logs:\n%s", logs.String())
		}
	}
}

// dialRun dials the gRPC address run serves on; the conn is closed when
// the test ends.
func dialRun(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// stopRun ends run's context and fails the test unless run returns nil.
func stopRun(t *testing.T, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run() = %v", err)
	}
}

// startConfigRun writes data to a config file in a temporary directory
// and runs the service on it (startRun) on loopback with a 2s grace
// period. It returns the file's path, run's context, its logs, its
// addresses and a func that ends run and fails the test unless run
// returns nil (stopRun).
func startConfigRun(t *testing.T, data string) (path string, ctx context.Context, logs *syncBuffer, addrs servingLine, finish func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "astraguard.yaml")
	writeFile(t, path, data)
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	logs = &syncBuffer{}
	addrs, done := startRun(t, ctx, logs, "--config", path, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--grace-period=2s")
	return path, ctx, logs, addrs, func() { stopRun(t, cancel, done) }
}

// TestRunServesAndShutsDown runs the real binary's wiring with the
// embedded model on loopback: it serves gRPC and HTTP, then exits cleanly
// when its context ends.
func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	addrs, done := startRun(t, ctx, &logs, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--grace-period=2s")
	grpcAddr, httpAddr := addrs.GRPC, addrs.HTTP

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// "serving" is logged after health flipped to SERVING.
	if resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v, want SERVING; logs:\n%s", resp, err, logs.String())
	}
	resp, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(ctx, &astraguardv1.DetectBatchRequest{
		Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/voltage", Values: []float64{8.1, 12}}},
	})
	if err != nil || len(resp.GetVerdicts()) != 2 || !resp.GetVerdicts()[1].GetLimitViolation() {
		t.Fatalf("DetectBatch() = %v, %v, want 2 verdicts, the second a limit violation", resp, err)
	}
	// With no admin credentials configured, mutations stay open to
	// loopback peers, so the README's plaintext grpcurl examples work.
	if _, err := astraguardv1.NewBreakerAdminClient(conn).ForceBreaker(ctx, &astraguardv1.ForceBreakerRequest{
		Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "readme example", Ttl: durationpb.New(time.Minute),
	}); err != nil {
		t.Errorf("ForceBreaker from loopback without credentials = %v, want OK", err)
	}
	body := httpGet(t, "http://"+httpAddr+"/metrics")
	for _, name := range []string{"astraguard_circuit_state", "astraguard_circuit_failures_total", "astraguard_circuit_successes_total",
		"astraguard_circuit_trips_total", "astraguard_circuit_recoveries_total", "astraguard_circuit_failure_ratio",
		"astraguard_circuit_open_duration_seconds", "astraguard_anomaly_detections_total", "astraguard_anomaly_detection_latency_seconds",
		"astraguard_anomaly_model_load_errors_total", "astraguard_anomaly_model_fallback_activations_total", "astraguard_grpc_server_handled_total"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if got := httpGet(t, "http://"+httpAddr+"/readyz"); got != "ready\n" {
		t.Errorf("/readyz = %q, want ready", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run() error = %v, want nil after shutdown", err)
	}
	if out := logs.String(); !strings.Contains(out, `"who":"loopback peer (no admin credentials configured)"`) {
		t.Errorf("audit log lacks the loopback caller:\n%s", out)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInfoLogHasTransitionsNotCalls runs the service at --log-level=info:
// a forced breaker's transition is logged, the calls themselves are not.
func TestInfoLogHasTransitionsNotCalls(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	addrs, done := startRun(t, ctx, &logs, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--log-level=info")
	conn := dialRun(t, addrs.GRPC)
	for range 3 {
		if _, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(ctx, &astraguardv1.DetectBatchRequest{
			Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/voltage", Values: []float64{8.1}}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := astraguardv1.NewBreakerAdminClient(conn).ForceBreaker(ctx, &astraguardv1.ForceBreakerRequest{
		Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "log test", Ttl: durationpb.New(time.Minute),
	}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run() = %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"INFO","msg":"breaker transition"`) {
		t.Errorf("INFO log lacks the breaker transition:\n%s", out)
	}
	if strings.Contains(out, `"msg":"finished call"`) {
		t.Errorf("INFO log has per-call lines:\n%s", out)
	}
}
