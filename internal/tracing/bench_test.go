package tracing

import (
	"context"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/tracelog"
	"github.com/astraguard/astraguard/server"
)

// BenchmarkDetectBatch measures a DetectBatch of 10 samples through the
// real server over bufconn, with the embedded model (so the server's own
// cost is not diluted by a model call), at Info level as in production:
//
//	before: no tracing at all (the server as it was before tracing)
//	off:    what the binaries run with no OTEL_* variables: otelgrpc's
//	        handler over a never-sampling SDK provider, ids in the logger
//	on:     every request sampled and exported to a discarding exporter
//
// Compare with: go test -run '^$' -bench DetectBatch -count 10 ./internal/tracing | benchstat -col /tracing -
func BenchmarkDetectBatch(b *testing.B) {
	for _, mode := range []string{"before", "off", "on"} {
		b.Run("tracing="+mode, func(b *testing.B) { benchDetectBatch(b, mode) })
	}
}

func benchDetectBatch(b *testing.B, mode string) {
	ctx := context.Background()
	handler := slog.Handler(slog.NewJSONHandler(io.Discard, nil))
	var opts []server.Option
	switch mode {
	case "off":
		tr, err := FromEnv(ctx, "bench", env(nil))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = tr.Shutdown(ctx) })
		opts = append(opts, server.WithTracing(server.Tracing{Provider: tr.Provider, Propagators: tr.Propagators, IDsOnly: !tr.Exporting}))
		handler = tracelog.New(handler)
	case "on":
		tr := discardingTracing()
		b.Cleanup(func() { _ = tr.Shutdown(ctx) })
		opts = append(opts, server.WithTracing(server.Tracing{Provider: tr.Provider, Propagators: tr.Propagators}))
		handler = tracelog.New(handler)
	}
	logger := slog.New(handler)
	breakers, err := breaker.NewRegistry(breaker.Settings{FailureThreshold: 5, RecoveryTimeout: 1e9, SuccessThreshold: 1})
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		b.Fatal(err)
	}
	det, err := detector.NewEmbedded(tmpl, breakers.Breaker("model"), detector.Config{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(det, server.NewAdminService(breakers, server.NewHub(), logger), server.Config{},
		append(opts, server.WithLogger(logger), server.WithRegisterer(prometheus.NewRegistry()))...)
	if err != nil {
		b.Fatal(err)
	}
	srv.SetServing()
	client := astraguardv1.NewDetectorServiceClient(serve(b, stoppable{srv}))
	req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "s", Values: make([]float64, 10)}}}
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, err := client.DetectBatch(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	// Process CPU (client and server share it) is far steadier than wall
	// time on a shared machine.
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discardingTracing samples everything and exports it in batches to an
// exporter that drops it: the cost of tracing on, short of the network.
func discardingTracing() *Tracing {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	return &Tracing{Provider: tp, Propagators: propagation.TraceContext{}, Exporting: true, shutdown: tp.Shutdown}
}
