package detector

import (
	"testing"
	"time"
)

// TestScoreEmbeddedDoesNotAllocate is skipped under -race, which makes
// sync.Pool drop items at random; `make test` runs it without -race.
func TestScoreEmbeddedDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under -race; make test runs this test without it")
	}
	for _, ps := range [][]Policy{nil, {{Name: "v", Globs: []string{"*/voltage"}, Threshold: 0.9, Sensitivity: 10, Off: []Mechanism{MechanismSeason}},
		{Name: "c", Globs: []string{"*/current"}, Sensitivity: 0.5}}} {
		scoreDoesNotAllocate(t, ps)
	}
}

// scoreDoesNotAllocate checks steady-state Score calls under policies ps
// (nil: none), whose judgement is resolved once per group.
func scoreDoesNotAllocate(t *testing.T, ps []Policy) {
	t.Helper()
	d := newEmbeddedDetector(t, 50, Config{}, WithClock(&fakeClock{t0.Add(3 * time.Hour)}))
	if ps != nil {
		d.SetPolicies(mustPolicies(t, ps))
	}
	groups := []Group{wave(0, 64, 0), wave(1, 64, 0)}
	dst := d.Score(t.Context(), nil, groups) // create the series
	ctx := t.Context()
	allocs := testing.AllocsPerRun(100, func() {
		for i := range groups {
			for j := range groups[i].UnixNanos {
				groups[i].UnixNanos[j] += 64e9 // keep time moving forward
			}
		}
		dst = d.Score(ctx, dst[:0], groups)
	})
	if allocs != 0 {
		t.Errorf("Score() with the embedded model and %d policies allocates %v times per call in steady state, want 0", len(ps), allocs)
	}
	for _, v := range dst {
		if v.Err != ErrNone {
			t.Fatalf("verdict %+v, want every sample scored", v)
		}
	}
}
