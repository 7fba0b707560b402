package detector

import (
	"context"
	"testing"

	"github.com/astraguard/astraguard/internal/checkpoint"
)

// TestAdopterContinuesHandedOverSeries: a detector given another one's
// drained state through a checkpoint.Index scores a moved series exactly
// as the original would have (no WARMING_UP), adopts each series once,
// and starts a series the index does not hold cold.
func TestAdopterContinuesHandedOverSeries(t *testing.T) {
	ctx := context.Background()
	orig := newEmbeddedDetector(t, 40, Config{})
	orig.Score(ctx, nil, []Group{wave(0, 100, 0), wave(1, 100, 0)})
	dir := t.TempDir()
	k, err := checkpoint.New(dir, "a.snap", orig.StateSignature())
	if err != nil {
		t.Fatal(err)
	}
	k.Add("series", orig.StatePart())
	if err := k.Save(ctx); err != nil {
		t.Fatal(err)
	}
	// Every record is StateRecordBytes long: none is refused as junk.
	x := checkpoint.NewIndex(dir, "b.snap", orig.StateSignature(), "series", 0, 10,
		checkpoint.WithBounds("series", checkpoint.Bounds{Value: orig.StateRecordBytes(), Fixed: true}))
	x.Scan(ctx)
	if st := x.Stats(); st.Indexed != 2 {
		t.Fatalf("indexed %d series, want 2 (%+v)", st.Indexed, st)
	}
	next := newEmbeddedDetector(t, 40, Config{}, WithAdopter(x))
	want := orig.Score(ctx, nil, []Group{wave(0, 50, 100)})
	got := next.Score(ctx, nil, []Group{wave(0, 50, 100)})
	for i := range want {
		if got[i] != want[i] || got[i].Source != SourceModel {
			t.Fatalf("sample %d: adopted %+v, original %+v; want equal model verdicts", i, got[i], want[i])
		}
	}
	if st := x.Stats(); st.Indexed != 1 || st.Adopted != 1 {
		t.Errorf("after one adoption: %+v, want 1 indexed, 1 adopted", st)
	}
	cold := wave(0, 1, 100)
	cold.SeriesID = "sat3/never-handed-over"
	if v := next.Score(ctx, nil, []Group{cold}); v[0].Reason != ReasonWarmingUp {
		t.Errorf("a series never handed over: %+v, want it to warm up", v[0])
	}
}
