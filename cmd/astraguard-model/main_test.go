package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/protolimit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{name: "defaults", want: config{grpcAddr: ":8001", httpAddr: ":8002", maxSeries: 100_000, seriesTTL: 24 * time.Hour, checkpointInterval: 30 * time.Second, grace: connlimit.DefaultGracePeriod, maxConnIdle: connlimit.DefaultMaxConnectionIdle, maxStreams: connlimit.DefaultMaxConcurrentStreams, maxConns: 10_000, modelName: "astraguard-anomaly"}},
		{
			name: "env",
			env: map[string]string{"ASTRAGUARD_MODEL_GRPC_ADDR": ":9001", "ASTRAGUARD_MODEL_GRACE_PERIOD": "3s", "ASTRAGUARD_MODEL_LOG_LEVEL": "debug",
				"ASTRAGUARD_MODEL_STATE_DIR": "/var/lib/m", "ASTRAGUARD_MODEL_CHECKPOINT_INTERVAL": "5s"},
			want: config{grpcAddr: ":9001", httpAddr: ":8002", maxSeries: 100_000, seriesTTL: 24 * time.Hour, stateDir: "/var/lib/m", checkpointInterval: 5 * time.Second, grace: 3 * time.Second, maxConnIdle: connlimit.DefaultMaxConnectionIdle, maxStreams: connlimit.DefaultMaxConcurrentStreams, maxConns: 10_000, modelName: "astraguard-anomaly", logLevel: slog.LevelDebug},
		},
		{
			name: "flags win over env",
			args: []string{"--grpc-addr", ":7001", "--max-series", "5", "--http-addr=:7002", "--max-connections=7"},
			env:  map[string]string{"ASTRAGUARD_MODEL_GRPC_ADDR": ":9001"},
			want: config{grpcAddr: ":7001", httpAddr: ":7002", maxSeries: 5, seriesTTL: 24 * time.Hour, checkpointInterval: 30 * time.Second, grace: connlimit.DefaultGracePeriod, maxConnIdle: connlimit.DefaultMaxConnectionIdle, maxStreams: connlimit.DefaultMaxConcurrentStreams, maxConns: 7, modelName: "astraguard-anomaly"},
		},
		{
			name: "every variable",
			env: map[string]string{"ASTRAGUARD_MODEL_MAX_CONNECTIONS": "7", "ASTRAGUARD_MODEL_SERIES_TTL": "1h", "ASTRAGUARD_MODEL_MAX_SERIES": "9",
				"ASTRAGUARD_MODEL_HTTP_ADDR": ":9002", "ASTRAGUARD_MODEL_NAME": "m1"},
			want: config{grpcAddr: ":8001", httpAddr: ":9002", maxSeries: 9, seriesTTL: time.Hour, checkpointInterval: 30 * time.Second, grace: connlimit.DefaultGracePeriod, maxConnIdle: connlimit.DefaultMaxConnectionIdle, maxStreams: connlimit.DefaultMaxConcurrentStreams, maxConns: 7, modelName: "m1"},
		},
		{
			name: "derived model name wins over its alias",
			env:  map[string]string{"ASTRAGUARD_MODEL_NAME": "old", "ASTRAGUARD_MODEL_MODEL_NAME": "new"},
			want: config{grpcAddr: ":8001", httpAddr: ":8002", maxSeries: 100_000, seriesTTL: 24 * time.Hour, checkpointInterval: 30 * time.Second, grace: connlimit.DefaultGracePeriod, maxConnIdle: connlimit.DefaultMaxConnectionIdle, maxStreams: connlimit.DefaultMaxConcurrentStreams, maxConns: 10_000, modelName: "new"},
		},
		{name: "bad env", env: map[string]string{"ASTRAGUARD_MODEL_MAX_SERIES": "many"}, wantErr: "ASTRAGUARD_MODEL_MAX_SERIES"},
		{name: "zero series", args: []string{"--max-series", "0"}, wantErr: "must be positive"},
		{name: "zero connections", args: []string{"--max-connections", "0"}, wantErr: "must be positive"},
		{name: "zero checkpoint interval", args: []string{"--checkpoint-interval", "0s"}, wantErr: "--checkpoint-interval: 0s below the minimum 1s"},
		{name: "negative grace", args: []string{"--grace-period", "-1s"}, wantErr: "negative"},
		{name: "stray args", args: []string{"serve"}, wantErr: "unexpected"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseConfig(%q) = %v, want error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseConfig(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
			}
		})
	}
}

// TestServe runs the wired process on loopback ports: the model answers
// the remote client, health and /readyz report serving, /metrics has the
// gRPC server metrics, and cancelling ctx shuts down cleanly with health
// NOT_SERVING.
func TestServe(t *testing.T) {
	cfg, err := parseConfig([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig() = %v", err)
	}
	a, lis, hlis, stop := startServe(t, cfg)

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	defer conn.Close()

	c, err := oip.New(conn, oip.Config{})
	if err != nil {
		t.Fatalf("oip.New() = %v", err)
	}
	rctx, rcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer rcancel()
	if err := c.CheckReady(rctx); err != nil {
		t.Fatalf("CheckReady() = %v", err)
	}
	in := []detector.Group{{SeriesID: "s", UnixNanos: []int64{1, 2}, Values: []float64{1, 2}}}
	out := make([]detector.Prediction, 2)
	if err := c.Predict(rctx, in, out); err != nil {
		t.Fatalf("Predict() = %v", err)
	}
	if out[0].Warm {
		t.Errorf("Predict() on a new series = %+v, want cold", out[0])
	}
	hc := healthpb.NewHealthClient(conn)
	if r, err := hc.Check(rctx, &healthpb.HealthCheckRequest{Service: "inference.GRPCInferenceService"}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health Check() = %v, %v; want SERVING", r, err)
	}

	// Metadata and headers are bounded at 64 KiB on both ports.
	padded := metadata.AppendToOutgoingContext(rctx, "x-padding", strings.Repeat("a", 128<<10))
	if _, err := hc.Check(padded, &healthpb.HealthCheckRequest{}); err == nil {
		t.Errorf("health Check() with 128 KiB of metadata succeeded, want it refused")
	}
	if _, err := hc.Check(rctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health Check() after the refused call = %v", err)
	}
	httpc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+hlis.Addr().String()+path, nil)
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatalf("GET %s = %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	big, _ := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+hlis.Addr().String()+"/healthz", nil)
	big.Header.Set("X-Padding", strings.Repeat("a", 128<<10))
	if resp, err := httpc.Do(big); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("GET /healthz with 128 KiB of headers = %v, %v; want 431", resp, err)
	} else {
		resp.Body.Close()
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", code)
	}
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200", code)
	}
	code, body := get("/metrics")
	for _, m := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="ModelInfer",grpc_service="inference.GRPCInferenceService",grpc_type="unary"} 1`,
		"go_goroutines", "process_",
		`astraguard_open_connections{listener="grpc"} 1`, `astraguard_open_connections{listener="http"} `,
		"astraguard_model_series 1", `astraguard_series_evicted_total{reason="capacity"} 0`, `astraguard_series_evicted_total{reason="ttl"} 0`,
	} {
		if code != http.StatusOK || !strings.Contains(body, m) {
			t.Errorf("GET /metrics = %d without %q", code, m)
		}
	}

	if err := stop(); err != nil {
		t.Errorf("serve() after cancel = %v, want nil", err)
	}
	if r, err := a.health.Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health after shutdown = %v, %v; want NOT_SERVING", r, err)
	}
	if c, err := net.Dial("tcp", lis.Addr().String()); err == nil {
		c.Close()
		t.Errorf("gRPC listener still accepts after shutdown")
	}
}

// startServe wires and serves cfg on its listeners until stop, which
// returns serve's result; cleanup stops it if the test did not. decodeOpts
// go to the decoding budget.
func startServe(t *testing.T, cfg config, decodeOpts ...protolimit.BudgetOption) (a *app, grpcLis, httpLis net.Listener, stop func() error) {
	t.Helper()
	a, err := newApp(cfg, io.Discard, decodeOpts...)
	if err != nil {
		t.Fatalf("newApp() = %v", err)
	}
	grpcLis, httpLis, err = cfg.listen(t.Context())
	if err != nil {
		t.Fatalf("listen() = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, grpcLis, httpLis) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return a, grpcLis, httpLis, stop
}

// TestEveryFlagHasVariable: parsing asks the environment for every flag's
// derived variable (ASTRAGUARD_MODEL_<FLAG>), so a new flag cannot lack one.
func TestEveryFlagHasVariable(t *testing.T) {
	asked := map[string]bool{}
	if _, err := parseConfig(nil, func(k string) (string, bool) { asked[k] = true; return "", false }, io.Discard); err != nil {
		t.Fatal(err)
	}
	fs, _ := new(config).flagSet(io.Discard)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "version" {
			return
		}
		n++
		want := "ASTRAGUARD_MODEL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if !asked[want] {
			t.Errorf("flag --%s: %s was never looked up", f.Name, want)
		}
	})
	if n < 13 {
		t.Errorf("checked %d flags, want at least the 13 of today", n)
	}
}
