package detector

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/internal/model"
)

// blockedInAcquire reports whether some goroutine waits for a store
// shard's lock in Table.Acquire.
func blockedInAcquire() bool {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, g := range strings.Split(stacks, "\n\n") {
		if strings.Contains(g, "store.(*Table[...]).Acquire") && strings.Contains(g, "sync.(*Mutex).Lock") {
			return true
		}
	}
	return false
}

// TestWaitingForASeriesIsNoModelTimeout: an embedded pass that waits for
// a series' shard held by another call (two streams writing one series
// with large batches) is not a slow model. Counted as one, 8 concurrent
// 20,000-sample requests on one series opened the model breaker within
// seconds, for every client, and turned /readyz to 503.
func TestWaitingForASeriesIsNoModelTimeout(t *testing.T) {
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	g := &countGate{}
	// ModelTimeout is long beside a one-sample pass (so its own work never
	// overruns it) and short beside the hold below.
	d, err := NewEmbedded(tmpl, g, Config{ModelTimeout: time.Second}, WithClock(realClock{}), WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	one := []Group{{SeriesID: "s", Values: []float64{1}}}
	d.Score(t.Context(), nil, one) // the series exists, learnt as usual
	st := d.series.(*seriesTable[*model.Detector])
	ref := st.t.Acquire("s", time.Now()) // another call holds the series
	done := make(chan []Verdict)
	go func() { done <- d.Score(context.Background(), nil, one) }()
	for !blockedInAcquire() {
		runtime.Gosched()
	}
	time.Sleep(1500 * time.Millisecond) // the holder's long batch
	ref.Release()
	got := <-done
	if g.failures != 0 || got[0].Reason == ReasonModelTimeout {
		t.Errorf("a pass that waited for its series: %d gate failures, reason %v; want no model failure", g.failures, got[0].Reason)
	}
}

// countGate allows every call and counts the failures it is told of.
type countGate struct{ failures int }

func (*countGate) Allow() (uint64, error) { return 1, nil }

func (g *countGate) Done(_ uint64, err error) {
	if err != nil {
		g.failures++
	}
}
