package scaleout

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/astraguard/astraguard/client"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// driver sends every series the same number of samples per round, one
// request per series, all in flight at once, through the client, and
// checks that every request is answered exactly once, in full.
type driver struct {
	c      *client.Client
	series []string
	next   []int64 // per series: samples sent so far
	t0     int64   // Unix ns of every series' first sample
	ids    map[string]bool
}

func newDriver(c *client.Client, n int) *driver {
	d := &driver{c: c, next: make([]int64, n), ids: map[string]bool{},
		t0: time.Now().Add(-24 * time.Hour).UnixNano()}
	for i := range n {
		d.series = append(d.series, fmt.Sprintf("sat%03d/voltage", i))
	}
	return d
}

// phase is what one run of rounds observed, by series.
type phase struct {
	rounds, samples int
	owner           map[string]string // replica that answered the series' last request
	warming         map[string]bool   // series with a WARMING_UP verdict in the phase
	errored         int               // verdicts with a sample error
}

// run sends rounds of per samples per series until stop reports true
// (called before each round with the rounds done so far) and at least
// minRounds ran, or maxRounds ran. It fails the test on a call error, a request answered
// twice or a response that does not match its request.
func (d *driver) run(ctx context.Context, t *testing.T, per, minRounds, maxRounds int, stop func(round int) bool) phase {
	t.Helper()
	ph := phase{owner: map[string]string{}, warming: map[string]bool{}}
	done := make(chan *client.Call, len(d.series))
	for r := 0; r < maxRounds; r++ {
		if stop != nil && stop(r) && r >= minRounds {
			break
		}
		for i, id := range d.series {
			if _, err := d.c.Go(ctx, d.request(i, id, per), done); err != nil {
				t.Fatalf("Go(%s) = %v", id, err)
			}
		}
		for range d.series {
			var call *client.Call
			select {
			case call = <-done:
			case <-ctx.Done():
				t.Fatalf("round %d: calls unanswered: %v", r, ctx.Err())
			}
			d.check(t, call, &ph)
		}
		ph.rounds++
		ph.samples += per * len(d.series)
	}
	return ph
}

func (d *driver) request(i int, id string, per int) *astraguardv1.DetectRequest {
	ss := &astraguardv1.SeriesSamples{SeriesId: id}
	for range per {
		k := d.next[i]
		d.next[i]++
		ss.UnixNanos = append(ss.UnixNanos, d.t0+k*int64(time.Second))
		ss.Values = append(ss.Values, 8+0.4*math.Sin(2*math.Pi*float64(k)/(60+float64(i))))
	}
	return &astraguardv1.DetectRequest{Series: []*astraguardv1.SeriesSamples{ss}}
}

func (d *driver) check(t *testing.T, call *client.Call, ph *phase) {
	t.Helper()
	req := call.Request
	if call.Err != nil {
		t.Fatalf("request %s: %v", req.GetRequestId(), call.Err)
	}
	id := req.GetRequestId()
	if d.ids[id] {
		t.Fatalf("request %s answered twice", id)
	}
	d.ids[id] = true
	ss := req.GetSeries()[0]
	vs := call.Response.GetVerdicts()
	if call.Response.GetRequestId() != id || len(vs) != len(ss.GetValues()) {
		t.Fatalf("request %s (%d samples) answered as %q with %d verdicts", id, len(ss.GetValues()), call.Response.GetRequestId(), len(vs))
	}
	for k, v := range vs {
		if v.GetSeriesId() != ss.GetSeriesId() || v.GetUnixNanos() != ss.GetUnixNanos()[k] {
			t.Fatalf("request %s: verdict %d is for %s at %d, want %s at %d", id, k, v.GetSeriesId(), v.GetUnixNanos(), ss.GetSeriesId(), ss.GetUnixNanos()[k])
		}
		if v.GetError() != nil {
			ph.errored++
		}
		if v.GetFallbackReason() == astraguardv1.FallbackReason_FALLBACK_REASON_WARMING_UP {
			ph.warming[ss.GetSeriesId()] = true
		}
	}
	ph.owner[ss.GetSeriesId()] = call.Replica
}
