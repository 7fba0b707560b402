package storeprom

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/astraguard/astraguard/internal/store"
)

type fakeEvictions map[store.Reason]uint64

func (f fakeEvictions) Evicted(r store.Reason) uint64 { return f[r] }

// TestRegisterEvictions: one counter per reason, read at scrape time, and
// lint-clean; a nil registerer registers nothing (and does not panic).
func TestRegisterEvictions(t *testing.T) {
	ev := fakeEvictions{store.ReasonCapacity: 3}
	reg := prometheus.NewPedanticRegistry()
	RegisterEvictions(reg, ev)
	ev[store.ReasonTTL] = 2 // after registration: read at scrape time
	want := `# HELP astraguard_series_evicted_total Series evicted from the series table, by reason: capacity (a new series arrived at a full table) or ttl (idle past --series-ttl).
# TYPE astraguard_series_evicted_total counter
astraguard_series_evicted_total{reason="capacity"} 3
astraguard_series_evicted_total{reason="ttl"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) != 0 {
		t.Errorf("GatherAndLint = %v, %v", problems, err)
	}
	RegisterEvictions(nil, ev)
}
