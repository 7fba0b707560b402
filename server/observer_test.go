package server

import (
	"context"
	"testing"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// flagScorer flags values above 10.
type flagScorer struct{}

func (flagScorer) Score(_ context.Context, dst []detector.Verdict, groups []detector.Group) []detector.Verdict {
	for _, g := range groups {
		for i, v := range g.Values {
			dst = append(dst, detector.Verdict{UnixNanos: g.UnixNanos[i], Anomaly: v > 10, Source: detector.SourceModel})
		}
	}
	return dst
}

type recordingObserver struct {
	series   []string
	verdicts []detector.Verdict
}

func (o *recordingObserver) ObserveVerdicts(groups []detector.Group, verdicts []detector.Verdict) {
	for _, g := range groups {
		o.series = append(o.series, g.SeriesID)
	}
	o.verdicts = append(o.verdicts, verdicts...)
}

// TestVerdictObserver: WithVerdictObserver's observer sees each scored
// batch's groups and their verdicts, in order.
func TestVerdictObserver(t *testing.T) {
	obs := &recordingObserver{}
	srv, err := New(flagScorer{}, NewAdminService(nil, NewHub(), discard()), Config{}, WithVerdictObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{
		{SeriesId: "a", UnixNanos: []int64{1, 2}, Values: []float64{1, 20}},
		{SeriesId: "b", UnixNanos: []int64{3}, Values: []float64{30}},
	}}
	if _, err := srv.detect.DetectBatch(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if len(obs.series) != 2 || obs.series[0] != "a" || obs.series[1] != "b" {
		t.Errorf("observed series = %q, want [a b]", obs.series)
	}
	if len(obs.verdicts) != 3 || obs.verdicts[0].Anomaly || !obs.verdicts[1].Anomaly || obs.verdicts[2].UnixNanos != 3 {
		t.Errorf("observed verdicts = %+v, want a's two (the second flagged) then b's", obs.verdicts)
	}
}
