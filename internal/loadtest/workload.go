package loadtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// channels name the series' channels. The first three have limit checks in
// the heuristic's default preset; values stay inside those limits, so the
// load is normal telemetry, not a storm of anomalies.
var channels = [...]string{"voltage", "temperature", "gyro", "current", "pressure", "rate", "power", "torque"}

// seriesState is one series' generator: a sine of its own period plus noise,
// sampled at strictly increasing times.
type seriesState struct {
	id     string
	next   int64 // samples generated so far
	offset float64
	amp    float64
	period float64 // in samples
	noise  float64
}

// Workload generates samples for a fixed set of series. Each series' times
// increase strictly across every request it appears in, as long as the
// Feeds in use at any moment own disjoint series (see Split).
type Workload struct {
	series []seriesState
	start  int64 // Unix ns of each series' first sample
	step   int64 // ns between a series' samples
}

// NewWorkload returns n series (n >= 1) whose first sample lies at start and
// whose samples are step apart (step > 0). Pick start far enough in the past
// that no series runs past now: the service rejects future timestamps.
func NewWorkload(n int, start time.Time, step time.Duration) (*Workload, error) {
	if n < 1 || step <= 0 {
		return nil, fmt.Errorf("new workload: need n >= 1 and step > 0, got %d, %v", n, step)
	}
	w := &Workload{series: make([]seriesState, n), start: start.UnixNano(), step: int64(step)}
	r := rand.New(rand.NewPCG(uint64(n), 1))
	for i := range w.series {
		ch := channels[i%len(channels)]
		s := seriesState{
			id:     fmt.Sprintf("sat%03d/%s", i/len(channels), ch),
			offset: 10, amp: 2, noise: 0.2,
			period: 50 + 200*r.Float64(),
		}
		switch ch {
		case "voltage": // limit 7..9
			s.offset, s.amp, s.noise = 8, 0.4, 0.05
		case "temperature": // limit above 40
			s.offset, s.amp, s.noise = 20, 5, 0.3
		case "gyro": // limit |x| <= 0.1
			s.offset, s.amp, s.noise = 0, 0.03, 0.005
		}
		w.series[i] = s
	}
	return w, nil
}

// Len returns the number of series.
func (w *Workload) Len() int { return len(w.series) }

// Split returns k Feeds (1 <= k <= Len) that own disjoint series: feed i
// owns the series whose index is i mod k. Feeds from an earlier Split must
// no longer be in use.
func (w *Workload) Split(k int) []*Feed {
	if k < 1 || k > len(w.series) {
		panic(fmt.Sprintf("loadtest: Split(%d) of %d series", k, len(w.series)))
	}
	feeds := make([]*Feed, k)
	for i := range feeds {
		f := &Feed{w: w, rng: rand.New(rand.NewPCG(uint64(i), uint64(k)))}
		for j := i; j < len(w.series); j += k {
			f.own = append(f.own, j)
		}
		feeds[i] = f
	}
	return feeds
}

// Feed fills requests from the series it owns, round robin. A Feed is not
// safe for concurrent use.
type Feed struct {
	w   *Workload
	own []int // indexes into w.series
	pos int
	rng *rand.Rand
}

// Fill overwrites req.Series with perSeries samples from each of the next
// nSeries series, reusing req's messages and slices, and returns the
// sample count. Refill a request only once its response has arrived: gRPC
// does not promise that a sent message is no longer read.
func (f *Feed) Fill(req *astraguardv1.DetectRequest, nSeries, perSeries int) int {
	req.Series = slices.Grow(req.Series[:0], nSeries)[:nSeries]
	for i, ss := range req.Series {
		if ss == nil {
			ss = &astraguardv1.SeriesSamples{}
			req.Series[i] = ss
		}
		s := &f.w.series[f.own[f.pos]]
		f.pos = (f.pos + 1) % len(f.own)
		ss.SeriesId = s.id
		ss.UnixNanos, ss.Values = ss.UnixNanos[:0], ss.Values[:0]
		for range perSeries {
			k := s.next
			s.next++
			ss.UnixNanos = append(ss.UnixNanos, f.w.start+k*f.w.step)
			v := s.offset + s.amp*math.Sin(2*math.Pi*float64(k)/s.period) + s.noise*f.rng.NormFloat64()
			ss.Values = append(ss.Values, v)
		}
	}
	return nSeries * perSeries
}
