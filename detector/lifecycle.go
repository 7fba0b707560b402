package detector

import (
	"time"

	"github.com/astraguard/astraguard/internal/store"
)

// SeriesCount reports how many series the detector tracks.
func (d *Detector) SeriesCount() int { return d.series.table().Len() }

// SeriesEvicted reports how many series were evicted for reason r
// (store.ReasonCapacity or store.ReasonTTL).
func (d *Detector) SeriesEvicted(r store.Reason) uint64 { return d.series.table().Evicted(r) }

// Sweep evicts the series idle longer than Config.SeriesTTL at now and
// returns how many. The detector starts no goroutine: its owner calls
// Sweep periodically so idle series free their memory even if they never
// return (a returning one is evicted on its next sample anyway).
func (d *Detector) Sweep(now time.Time) int { return d.series.table().Sweep(now) }

// countBusy counts the heuristic verdicts of series another call had at
// the remote model.
func (d *Detector) countBusy(out []Verdict, n int) {
	anomalies := 0
	for i := range out {
		if out[i].Reason == ReasonSeriesBusy && out[i].Anomaly {
			anomalies++
		}
	}
	d.metrics.detections[SourceHeuristic].Add(float64(n))
	d.metrics.anomalies[SourceHeuristic].Add(float64(anomalies))
	d.metrics.fallbackSamples[ReasonSeriesBusy].Add(float64(n))
}
