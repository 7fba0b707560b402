package deploy_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/teststorage"
)

// scrapeStart is the TSDB time of the first scrape (ms); the second lands
// 30s later, as one scrape interval would.
const scrapeStart = 1_700_000_000_000

func parseExposition(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// exportedNames are the series names a Prometheus scrape would store.
func exportedNames(t *testing.T, text string) map[string]bool {
	names := map[string]bool{}
	for name, f := range parseExposition(t, text) {
		names[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	return names
}

// loadScrapes stores each scrape as one sample per series, 30s apart.
func loadScrapes(t *testing.T, scrapes ...string) *teststorage.TestStorage {
	st := teststorage.New(t)
	for i, text := range scrapes {
		ts := int64(scrapeStart + i*30_000)
		app := st.Appender(t.Context())
		for name, f := range parseExposition(t, text) {
			for _, m := range f.GetMetric() {
				for _, s := range samples(name, f.GetType(), m) {
					if _, err := app.Append(0, s.lbls, ts, s.v); err != nil {
						t.Fatalf("append %s: %v", s.lbls, err)
					}
				}
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

type sample struct {
	lbls labels.Labels
	v    float64
}

// samples flattens one metric into the series the text format's scrape
// produces: histograms become _bucket{le}, _sum and _count.
func samples(name string, typ dto.MetricType, m *dto.Metric) []sample {
	base := labels.NewBuilder(labels.EmptyLabels())
	for _, lp := range m.GetLabel() {
		base.Set(lp.GetName(), lp.GetValue())
	}
	with := func(n string, v float64, extra ...string) sample {
		b := labels.NewBuilder(base.Labels())
		b.Set(model.MetricNameLabel, n)
		for i := 0; i < len(extra); i += 2 {
			b.Set(extra[i], extra[i+1])
		}
		return sample{b.Labels(), v}
	}
	switch typ {
	case dto.MetricType_COUNTER:
		return []sample{with(name, m.GetCounter().GetValue())}
	case dto.MetricType_GAUGE:
		return []sample{with(name, m.GetGauge().GetValue())}
	case dto.MetricType_UNTYPED:
		return []sample{with(name, m.GetUntyped().GetValue())}
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		out := []sample{with(name+"_sum", s.GetSampleSum()), with(name+"_count", float64(s.GetSampleCount()))}
		for _, q := range s.GetQuantile() {
			out = append(out, with(name, q.GetValue(), "quantile", strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)))
		}
		return out
	case dto.MetricType_HISTOGRAM:
		h := m.GetHistogram()
		out := []sample{with(name+"_sum", h.GetSampleSum()), with(name+"_count", float64(h.GetSampleCount()))}
		inf := false
		for _, b := range h.GetBucket() {
			inf = inf || math.IsInf(b.GetUpperBound(), 1)
			out = append(out, with(name+"_bucket", float64(b.GetCumulativeCount()), "le", model.FloatString(b.GetUpperBound()).String()))
		}
		if !inf {
			out = append(out, with(name+"_bucket", float64(h.GetSampleCount()), "le", "+Inf"))
		}
		return out
	}
	return nil
}
