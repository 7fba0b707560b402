package main

import (
	"context"
	"testing"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestStateRestoresAnyScoredSample: every state a client's samples can put
// a series in is saved so that it restores. A value of 1e-50 (finite, so
// scored) rounded to 0 in the embedded model's float32 season profile,
// which the snapshot decoder refused as out of the series' range; the one
// record set the whole snapshot aside at the next start, and every series
// started cold: one sample from any client wiped what the service had
// learned. Now both series come back.
func TestStateRestoresAnyScoredSample(t *testing.T) {
	dir := t.TempDir()
	for run := range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		logs := &syncBuffer{}
		addrs, done := startRun(t, ctx, logs, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0",
			"--grace-period=1s", "--log-format=json", "--state-dir="+dir)
		if run == 0 {
			client := astraguardv1.NewDetectorServiceClient(dialRun(t, addrs.GRPC))
			req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{
				{SeriesId: "sat1/ok", Values: []float64{8.1, 8.2, 8.1}},
				{SeriesId: "sat1/tiny", Values: []float64{1e-50}},
			}}
			if _, err := client.DetectBatch(ctx, req); err != nil {
				t.Fatalf("DetectBatch() = %v", err)
			}
		} else {
			body := httpGet(t, "http://"+addrs.HTTP+"/metrics")
			if n := metric(t, body, "astraguard_series"); n != 2 {
				t.Errorf("astraguard_series after the restart = %v, want 2; logs:\n%s", n, logs.String())
			}
			if aside := asideFiles(t, dir, snapshotFile); len(aside) != 0 {
				t.Errorf("snapshot set aside: %q; logs:\n%s", aside, logs.String())
			}
		}
		stopRun(t, cancel, done)
	}
}
