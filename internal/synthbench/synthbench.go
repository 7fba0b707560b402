package synthbench

import (
	"context"
	"fmt"
	"time"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/internal/spaceeval"
	"github.com/astraguard/astraguard/internal/synth"
)

// Load generates every series of synth.Corpus(seed) at cadence.
func Load(seed uint64, cadence time.Duration) ([]synth.Labelled, error) {
	specs := synth.Corpus(seed)
	out := make([]synth.Labelled, 0, len(specs))
	for _, s := range specs {
		l, err := synth.Generate(s, cadence)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// LoadTwins generates the anomaly-free twin (synth.Twin) of every series
// of synth.Corpus(seed) that has an anomaly, with its label: scored like
// the corpus, its recall is the share of labels hit by chance.
func LoadTwins(seed uint64, cadence time.Duration) ([]synth.Labelled, error) {
	var out []synth.Labelled
	for _, s := range synth.Corpus(seed) {
		if s.Kind == synth.NoAnomaly {
			continue
		}
		l, err := synth.Twin(s, cadence)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// Entries turns series into spaceeval label rows (one per series; the
// family as the spacecraft, the anomaly type as the class) and their values
// by series ID, ready for spaceeval.Run.
func Entries(series []synth.Labelled) ([]spaceeval.Entry, map[string][]float64, error) {
	es := make([]spaceeval.Entry, 0, len(series))
	vals := make(map[string][]float64, len(series))
	for _, l := range series {
		id := l.ID()
		if _, dup := vals[id]; dup {
			return nil, nil, fmt.Errorf("series %s twice", id)
		}
		e := spaceeval.Entry{Series: id, Spacecraft: string(l.Family), Chan: id, NTrain: l.NTrain, NTest: len(l.Values) - l.NTrain}
		if l.Kind != synth.NoAnomaly {
			e.Sequences = [][2]int{{l.Label[0] - l.NTrain, l.Label[1] - l.NTrain}}
			e.Classes = []string{string(l.Kind)}
		}
		if e.NTest <= 0 || len(e.Sequences) > 0 && (e.Sequences[0][0] < 0 || e.Sequences[0][1] >= e.NTest) {
			return nil, nil, fmt.Errorf("series %s: label %v outside its test split", id, l.Label)
		}
		es = append(es, e)
		vals[id] = l.Values
	}
	return es, vals, nil
}

// Report is one path's score on the corpus at one cadence.
type Report struct {
	// Total are telemanom's counts over every series.
	Total spaceeval.Counts
	// Found and Labelled count labelled anomalies by type and size.
	Found, Labelled map[synth.Kind][3]int
	// FP counts false positives (predicted sequences that overlap no label)
	// by family, and Days the scored series-days (test splits) by family.
	FP   map[synth.Family]int
	Days map[synth.Family]float64
	// CleanFP and CleanDays are the same over the anomaly-free series.
	CleanFP   int
	CleanDays float64
	// FPBy counts false positives by the mechanism of their first flag, and
	// HitBy found anomalies by the mechanism of the first flag of the first
	// sequence that hit them (ScoreExplained; empty from Score).
	FPBy, HitBy map[string]int
}

// FPPerDay is the false positives per scored series-day over all series.
func (r Report) FPPerDay() float64 {
	fp, d := 0, 0.0
	for f, n := range r.FP {
		fp += n
		d += r.Days[f]
	}
	return ratio(float64(fp), d)
}

// Recall is the share of labelled anomalies of kind k found (all sizes).
func (r Report) Recall(k synth.Kind) (found, labelled int) {
	for s := range 3 {
		found += r.Found[k][s]
		labelled += r.Labelled[k][s]
	}
	return found, labelled
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Score scores the test-split flags of each series (flags[ID], as
// spaceeval.Run returns them) with telemanom's protocol, no buffer.
func Score(series []synth.Labelled, flags map[string][]bool) (Report, error) {
	return ScoreExplained(series, flags, nil)
}

// ScoreExplained is Score that also attributes false positives and hits to
// the mechanism of their first flag, from mechs (as spaceeval.RunExplained
// returns them; nil: no attribution).
func ScoreExplained(series []synth.Labelled, flags map[string][]bool, mechs map[string][]detector.Mechanism) (Report, error) {
	r := Report{Found: map[synth.Kind][3]int{}, Labelled: map[synth.Kind][3]int{}, FP: map[synth.Family]int{},
		Days: map[synth.Family]float64{}, FPBy: map[string]int{}, HitBy: map[string]int{}}
	for _, l := range series {
		f, ok := flags[l.ID()]
		if !ok {
			return Report{}, fmt.Errorf("no flags for %s", l.ID())
		}
		nTest := len(l.Values) - l.NTrain
		if len(f) != nTest {
			return Report{}, fmt.Errorf("%s: %d test flags, want %d", l.ID(), len(f), nTest)
		}
		var labelled [][2]int
		if l.Kind != synth.NoAnomaly {
			labelled = [][2]int{{l.Label[0] - l.NTrain, l.Label[1] - l.NTrain}}
		}
		pred := spaceeval.Sequences(f, 0)
		c, matched := spaceeval.Evaluate(pred, labelled)
		r.Total = r.Total.Add(c)
		if m, ok := mechs[l.ID()]; ok {
			if len(m) != nTest {
				return Report{}, fmt.Errorf("%s: %d test mechanisms, want %d", l.ID(), len(m), nTest)
			}
			hit := false
			for _, p := range pred {
				switch {
				case len(labelled) == 0 || p[1] < labelled[0][0] || p[0] > labelled[0][1]:
					r.FPBy[m[p[0]].String()]++
				case !hit:
					hit = true
					r.HitBy[m[p[0]].String()]++
				}
			}
		}
		days := float64(nTest) * l.Cadence.Hours() / 24
		r.FP[l.Family] += c.FP
		r.Days[l.Family] += days
		if l.Kind == synth.NoAnomaly {
			r.CleanFP += c.FP
			r.CleanDays += days
			continue
		}
		lab, found := r.Labelled[l.Kind], r.Found[l.Kind]
		lab[l.Size]++
		if matched[0] {
			found[l.Size]++
		}
		r.Labelled[l.Kind], r.Found[l.Kind] = lab, found
	}
	return r, nil
}

// Run replays series (generated at cadence) through fresh detectors from
// newPath, workers series at a time, and scores them (ScoreExplained).
func Run(ctx context.Context, series []synth.Labelled, cadence time.Duration, newPath func() (*detector.Detector, error), workers int) (Report, map[string][]bool, error) {
	for _, l := range series {
		if l.Cadence != cadence {
			return Report{}, nil, fmt.Errorf("%s was generated at %v, not %v", l.ID(), l.Cadence, cadence)
		}
	}
	es, vals, err := Entries(series)
	if err != nil {
		return Report{}, nil, err
	}
	flags, mechs, err := spaceeval.RunExplained(ctx, es, vals, cadence, newPath, workers)
	if err != nil {
		return Report{}, nil, err
	}
	r, err := ScoreExplained(series, flags, mechs)
	return r, flags, err
}

// PerSeries scores each series' test flags on its own, in series order, as
// spaceeval Results (the family as the spacecraft, the anomaly type as the
// class): a row of a spaceeval.Table for cross-validation, folds grouped by
// series.
func PerSeries(series []synth.Labelled, flags map[string][]bool) ([]spaceeval.Result, error) {
	es, _, err := Entries(series)
	if err != nil {
		return nil, err
	}
	out := make([]spaceeval.Result, len(es))
	for i, e := range es {
		f, ok := flags[e.Series]
		if !ok || len(f) != e.NTest {
			return nil, fmt.Errorf("%s: %d test flags, want %d", e.Series, len(f), e.NTest)
		}
		out[i].Add(spaceeval.ScoreEntry(e, f, 0))
	}
	return out, nil
}
