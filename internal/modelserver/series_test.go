package modelserver_test

import (
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/modelserver"
	"github.com/astraguard/astraguard/internal/store"
)

// TestSeriesTableIsBounded: the model server keeps its per-series state in
// a store.Table: a full table evicts (the evicted series comes back cold)
// and idle series expire.
func TestSeriesTableIsBounded(t *testing.T) {
	tmpl, err := model.NewTemplate(model.Config{WarmUp: 20})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	s, err := modelserver.New(tmpl, modelserver.Config{MaxSeries: 2, SeriesTTL: time.Hour},
		modelserver.WithNow(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.ModelInfer(ctx, seqReq(id, ramp(30)...)); err != nil {
			t.Fatalf("ModelInfer(%s) = %v", id, err)
		}
	}
	resp, err := s.ModelInfer(ctx, seqReq("a", 1))
	if err != nil || warm(t, resp)[0] {
		t.Fatalf("ModelInfer(a) after eviction = %v, %v; want a cold series", resp, err)
	}
	tbl := s.Series()
	if tbl.Len() != 2 || tbl.Evicted(store.ReasonCapacity) != 2 {
		t.Errorf("Len() = %d, Evicted(capacity) = %d; want 2, 2", tbl.Len(), tbl.Evicted(store.ReasonCapacity))
	}
	if n := tbl.Sweep(now.Add(2 * time.Hour)); n != 2 || tbl.Len() != 0 {
		t.Errorf("Sweep() = %d leaving %d, want 2 leaving 0", n, tbl.Len())
	}
}

func TestNewRejectsBadSeriesConfig(t *testing.T) {
	tmpl, _ := model.NewTemplate(model.Config{})
	if _, err := modelserver.New(tmpl, modelserver.Config{SeriesTTL: -time.Second}); err == nil {
		t.Error("New(SeriesTTL -1s) = nil error, want one")
	}
}
