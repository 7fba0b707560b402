package detector

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metricValue returns the value of the counter or gauge series of name
// whose label values are labels, failing the test when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, labels) {
				if mf.GetType() == dto.MetricType_GAUGE {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func labelsMatch(m *dto.Metric, want []string) bool {
	if len(m.GetLabel()) != len(want) {
		return false
	}
	for i, lp := range m.GetLabel() {
		if lp.GetValue() != want[i] {
			return false
		}
	}
	return true
}
