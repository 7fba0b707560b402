package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	path, ctx, _, addrs, finish := startConfigRun(t, "log_level: info\n")
	conn := dialRun(t, addrs.GRPC)
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
	seriesBefore := metricLine(t, addrs.HTTP, "astraguard_series ")

	var sent, answered, warming atomic.Int64
	// load sends requests batches from each worker; with reload set it
	// reloads (alternately by POST and by rewriting the file) until the
	// load ends. It returns the request latencies and the reload count.
	load := func(phase int, reload bool) (lat []time.Duration, reloads int) {
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			errs = make(chan error, workers+1)
		)
		for w := range workers {
			wg.Go(func() {
				for i := range requests {
					req := batch(w, phase*requests+i+1, perSeries)
					sent.Add(int64(seriesPerWorker * perSeries))
					start := time.Now()
					resp, err := client.DetectBatch(ctx, req)
					d := time.Since(start)
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
					lat = append(lat, d)
					mu.Unlock()
				}
			})
		}
		loadDone := make(chan struct{})
		go func() { wg.Wait(); close(loadDone) }()
		for n := 0; reload; n++ {
			select {
			case <-loadDone:
				reload = false
				continue
			default:
			}
			if n%2 == 0 {
				if code, res := postReload(t, addrs.HTTP); code != 200 || !res.Success {
					errs <- fmt.Errorf("POST /-/reload = %d %+v", code, res)
				}
			} else {
				writeFile(t, path, []string{"log_level: warn\n", "log_level: info\n"}[n/2%2])
			}
			reloads++
			time.Sleep(5 * time.Millisecond) // pacing between reloads, not a synchronization
		}
		<-loadDone
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		return lat, reloads
	}
	base, _ := load(0, false)
	during, reloads := load(1, true)
	want := int64(2 * workers * requests * seriesPerWorker * perSeries)
	if s, a := sent.Load(), answered.Load(); s != a || s != want {
		t.Errorf("verdicts sent %d, answered %d, want all %d", s, a, want)
	}
	if n := warming.Load(); n != 0 {
		t.Errorf("%d warm-up verdicts after warm-up: a reload lost series state", n)
	}
	if after := metricLine(t, addrs.HTTP, "astraguard_series "); after != seriesBefore || after == "" {
		t.Errorf("series gauge %q after reloads, %q before", after, seriesBefore)
	}
	if got := metricLine(t, addrs.HTTP, `astraguard_config_reloads_total{result="failure"}`); !strings.HasSuffix(got, " 0") {
		t.Errorf("%s, want no failed reload", got)
	}
	if reloads == 0 {
		t.Error("no reload happened during the load")
	}
	t.Logf("verdicts sent %d answered %d; %d requests without reloads: p99 %v; %d requests during %d reloads (POST and file): p99 %v",
		sent.Load(), answered.Load(), len(base), p99(base), len(during), reloads, p99(during))
	finish()
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[(len(ds)*99-1)/100]
}
