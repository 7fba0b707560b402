package anomalyview

import (
	"encoding/json"
	"time"

	"github.com/astraguard/astraguard/detector"
)

// The JSON below is what httpui relays to the page (and serves at
// /api/anomalies); its field names are the page's.

type feedJSON struct {
	Seq       uint64    `json:"seq"`
	At        time.Time `json:"at"`
	Series    string    `json:"series"`
	Value     float64   `json:"value"`
	Score     float64   `json:"score"`
	Source    string    `json:"source"`
	Reason    string    `json:"reason,omitempty"`
	Mechanism string    `json:"mechanism"`
	Policy    string    `json:"policy,omitempty"`
	Band      *bandJSON `json:"band,omitempty"`
}

type bandJSON struct {
	Expected float64 `json:"expected"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
}

type contextJSON struct {
	Series   string      `json:"series"`
	Capacity int         `json:"capacity"`
	Points   []pointJSON `json:"points"` // oldest first
}

// pointJSON is one sample of a series' context; T is in unix
// milliseconds (fractional: a JavaScript number cannot hold nanoseconds).
type pointJSON struct {
	T         float64     `json:"t"`
	V         float64     `json:"v"`
	Score     float32     `json:"s"`
	Anomaly   bool        `json:"a,omitempty"`
	Heuristic bool        `json:"h,omitempty"`
	Mechanism string      `json:"m,omitempty"`
	Band      *[3]float64 `json:"b,omitempty"` // expected, lower, upper
}

// Feed returns the JSON array of the feed's anomalies newer than seq
// after, newest first, and the newest one's seq (after itself when there
// is none newer). It returns nil data when the view is off.
func (v *View) Feed(after uint64) (data []byte, last uint64) {
	if v.cfg.Off {
		return nil, after
	}
	v.feedMu.Lock()
	last = v.feedSeq
	var evs []event
	for seq := last; seq > after && last-seq < uint64(len(v.feed)); seq-- {
		evs = append(evs, v.feed[seq%uint64(len(v.feed))])
	}
	v.feedMu.Unlock()
	out := make([]feedJSON, 0, len(evs))
	for _, e := range evs {
		f := feedJSON{
			Seq: e.seq, At: time.Unix(0, e.v.UnixNanos).UTC(), Series: e.series, Value: e.value, Score: e.v.Score,
			Source: e.v.Source.String(), Mechanism: e.v.Explain.Mechanism.String(), Policy: e.v.Policy,
		}
		if e.v.Reason != detector.ReasonNone {
			f.Reason = e.v.Reason.String()
		}
		if x := e.v.Explain; x.HasBand {
			f.Band = &bandJSON{x.Expected, x.Lower, x.Upper}
		}
		out = append(out, f)
	}
	data, err := json.Marshal(out)
	if err != nil {
		// Not expected (scores and bands are finite), and never a crash.
		return []byte("[]"), last
	}
	return data, last
}

// Context returns the JSON of series' kept context, oldest sample first,
// and false when the series is not kept (or the view is off).
func (v *View) Context(series string) ([]byte, bool) {
	v.mu.RLock()
	e := v.series[series]
	if e == nil {
		v.mu.RUnlock()
		return nil, false
	}
	pts := make([]point, e.size)
	for i := range pts {
		pts[i] = e.ring[(e.start+i)%len(e.ring)]
	}
	v.mu.RUnlock()
	c := contextJSON{Series: series, Capacity: v.cfg.Samples, Points: make([]pointJSON, len(pts))}
	for i, p := range pts {
		j := pointJSON{T: float64(p.nanos) / 1e6, V: p.value, Score: p.score,
			Anomaly: p.flags&flagAnomaly != 0, Heuristic: p.flags&flagHeuristic != 0}
		if p.mech != detector.MechanismNone {
			j.Mechanism = p.mech.String()
		}
		if p.flags&flagBand != 0 {
			j.Band = &[3]float64{p.expected, p.lower, p.upper}
		}
		c.Points[i] = j
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil, false // not expected: values and bands are finite
	}
	return data, true
}
