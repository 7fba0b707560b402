package detector

import (
	"context"
	"testing"
	"time"

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

// TestHandoverPrefersTheLaterStateNotTheLaterClock: a series moved from
// replica A, whose clock ran an hour fast, to replica B, which adopted it
// and learnt more; both files hold it. A third replica adopts B's state:
// the one learnt from more samples (LaterRecord), although A's record
// says it was used an hour later. Before, the record whose writer's clock
// said later won, so A's old state came back.
func TestHandoverPrefersTheLaterStateNotTheLaterClock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	save := func(d *Detector, file string) {
		t.Helper()
		k, err := checkpoint.New(dir, file, d.StateSignature())
		if err != nil {
			t.Fatal(err)
		}
		k.Add("series", d.StatePart())
		if err := k.Save(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a := newEmbeddedDetector(t, 40, Config{}, WithClock(&fakeClock{t0.Add(time.Hour)}))
	a.Score(ctx, nil, []Group{wave(0, 100, 0)})
	save(a, "a.snap")
	bounds := checkpoint.WithBounds("series", checkpoint.Bounds{Value: a.StateRecordBytes(), Fixed: true})
	xb := checkpoint.NewIndex(dir, "b.snap", a.StateSignature(), "series", 0, 10, bounds, checkpoint.WithLater(a.LaterRecord))
	xb.Scan(ctx)
	b := newEmbeddedDetector(t, 40, Config{}, WithAdopter(xb))
	b.Score(ctx, nil, []Group{wave(0, 50, 100)})
	save(b, "b.snap")

	ref := newEmbeddedDetector(t, 40, Config{})
	ref.Score(ctx, nil, []Group{wave(0, 150, 0)}) // what B holds: A's 100 samples, then 50
	xc := checkpoint.NewIndex(dir, "c.snap", a.StateSignature(), "series", 0, 10, bounds, checkpoint.WithLater(a.LaterRecord))
	xc.Scan(ctx)
	c := newEmbeddedDetector(t, 40, Config{}, WithAdopter(xc))
	want := ref.Score(ctx, nil, []Group{wave(0, 20, 150)})
	got := c.Score(ctx, nil, []Group{wave(0, 20, 150)})
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d: adopted %+v, B's state would give %+v; the stale record of the fast replica won", i, got[i], want[i])
		}
	}
}

// TestLaterRecord: more samples is later; a record that does not parse
// never is.
func TestLaterRecord(t *testing.T) {
	ctx := context.Background()
	rec := func(n int) []byte {
		d := newEmbeddedDetector(t, 40, Config{})
		d.Score(ctx, nil, []Group{wave(0, n, 0)})
		var out []byte
		dir := t.TempDir()
		kp, err := checkpoint.New(dir, "x.snap", d.StateSignature())
		if err != nil {
			t.Fatal(err)
		}
		kp.Add("series", d.StatePart())
		if err := kp.Save(ctx); err != nil {
			t.Fatal(err)
		}
		x := checkpoint.NewIndex(dir, "self.snap", d.StateSignature(), "series", 0, 10)
		x.Scan(ctx)
		x.Adopt(wave(0, 1, 0).SeriesID, func(b []byte) error { out = append([]byte(nil), b...); return nil })
		return out
	}
	d := newEmbeddedDetector(t, 40, Config{})
	few, many := rec(10), rec(20)
	if !d.LaterRecord(many, few) || d.LaterRecord(few, many) || d.LaterRecord(few, few) {
		t.Error("LaterRecord does not order records by samples learnt")
	}
	if d.LaterRecord([]byte("junk"), few) || !d.LaterRecord(few, []byte("junk")) {
		t.Error("a record that does not parse was taken as later, or a good one not over it")
	}
}
