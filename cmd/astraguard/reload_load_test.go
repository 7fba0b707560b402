package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestReloadUnderLoad reloads the configuration (by POST /-/reload and by
// rewriting the file) while clients send batches through the real server,
// and checks that every verdict is answered, no series forgets what the
// model learned (no warm-up verdict after warm-up, the series gauge
// unchanged), and every reload succeeds. It logs the verdict counts and
// the request latency p99 during reloads, for the note.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	path := filepath.Join(t.TempDir(), "astraguard.yaml")
	writeFile(t, path, "log_level: info\n")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	addrs, done := startRun(t, ctx, &logs, "--config", path, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--grace-period=2s")
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := astraguardv1.NewDetectorServiceClient(conn)

	const workers, seriesPerWorker, perSeries, requests = 4, 2, 5, 300
	batch := func(w, i, n int) *astraguardv1.DetectBatchRequest {
		req := &astraguardv1.DetectBatchRequest{}
		for s := range seriesPerWorker {
			vals := make([]float64, n)
			for k := range vals {
				vals[k] = 8 + 0.1*math.Sin(float64(i*n+k)/10)
			}
			req.Series = append(req.Series, &astraguardv1.SeriesSamples{SeriesId: fmt.Sprintf("sat%d/voltage%d", w, s), Values: vals})
		}
		return req
	}
	for w := range workers { // warm every series past the model's 300-sample warm-up
		if _, err := client.DetectBatch(ctx, batch(w, 0, 400)); err != nil {
			t.Fatal(err)
		}
	}
	seriesBefore := metricLine(t, addrs.HTTP, "astraguard_anomaly_series ")

	type span struct{ start, end time.Time }
	var (
		sent, answered, warming atomic.Int64
		mu                      sync.Mutex
		reqSpans, reloadSpans   []span
		wg                      sync.WaitGroup
		errs                    = make(chan error, workers+1)
	)
	loadDone := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			for i := range requests {
				req := batch(w, i+1, perSeries)
				sent.Add(int64(seriesPerWorker * perSeries))
				start := time.Now()
				resp, err := client.DetectBatch(ctx, req)
				end := time.Now()
				if err != nil {
					errs <- fmt.Errorf("DetectBatch: %w", err)
					return
				}
				for _, v := range resp.GetVerdicts() {
					answered.Add(1)
					if v.GetFallbackReason() == astraguardv1.FallbackReason_FALLBACK_REASON_WARMING_UP {
						warming.Add(1)
					}
				}
				mu.Lock()
				reqSpans = append(reqSpans, span{start, end})
				mu.Unlock()
			}
		})
	}
	reloads := 0
	go func() { wg.Wait(); close(loadDone) }()
	for level := 0; ; level++ {
		select {
		case <-loadDone:
		default:
			start := time.Now()
			if level%2 == 0 {
				if code, res := postReload(t, addrs.HTTP); code != 200 || !res.Success {
					errs <- fmt.Errorf("POST /-/reload = %d %+v", code, res)
				}
			} else {
				writeFile(t, path, []string{"log_level: warn\n", "log_level: info\n"}[level/2%2])
			}
			mu.Lock()
			reloadSpans = append(reloadSpans, span{start, time.Now()})
			mu.Unlock()
			reloads++
			time.Sleep(20 * time.Millisecond) // pacing between reloads, not a synchronization
			continue
		}
		break
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s, a := sent.Load(), answered.Load(); s != a || s != workers*requests*seriesPerWorker*perSeries {
		t.Errorf("verdicts sent %d, answered %d, want all %d", s, a, workers*requests*seriesPerWorker*perSeries)
	}
	if n := warming.Load(); n != 0 {
		t.Errorf("%d warm-up verdicts after warm-up: a reload lost series state", n)
	}
	if after := metricLine(t, addrs.HTTP, "astraguard_anomaly_series "); after != seriesBefore || after == "" {
		t.Errorf("series gauge %q after reloads, %q before", after, seriesBefore)
	}
	if got := metricLine(t, addrs.HTTP, `astraguard_config_reloads_total{result="failure"}`); !strings.HasSuffix(got, " 0") {
		t.Errorf("%s, want no failed reload", got)
	}
	var all, during []time.Duration
	for _, r := range reqSpans {
		d := r.end.Sub(r.start)
		all = append(all, d)
		if slices.ContainsFunc(reloadSpans, func(x span) bool {
			return r.start.Before(x.end.Add(50*time.Millisecond)) && r.end.After(x.start)
		}) {
			during = append(during, d)
		}
	}
	t.Logf("reloads %d (POST and file), verdicts sent %d answered %d, requests %d (%d overlapping a reload); p99 all %v, p99 during reloads %v",
		reloads, sent.Load(), answered.Load(), len(all), len(during), p99(all), p99(during))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run() = %v", err)
	}
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[(len(ds)*99-1)/100]
}
