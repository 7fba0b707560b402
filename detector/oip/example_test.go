package oip_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
)

// Example wires a Client the way cmd/astraguard does: NewConn never blocks,
// CheckReady decides readiness (and runs again when the breaker goes
// half-open), and each Predict is one ModelInfer inside the caller's
// deadline.
func Example() {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	loadErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "astraguard_anomaly_model_load_errors_total",
		Help: "Model readiness checks that failed.",
	})
	reg.MustRegister(loadErrors)

	conn, err := oip.NewConn("localhost:8001")
	if err != nil {
		return
	}
	defer conn.Close()
	c, err := oip.New(conn, oip.Config{}, oip.WithLoadErrors(loadErrors), oip.WithLogger(slog.Default()))
	if err != nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := c.CheckReady(rctx); err != nil {
		return // not ready: keep the breaker open, retry later
	}
	in := []detector.Group{{SeriesID: "sat1/voltage", UnixNanos: []int64{time.Now().UnixNano()}, Values: []float64{28.1}}}
	out := make([]detector.Prediction, 1)
	_ = c.Predict(rctx, in, out)
}
