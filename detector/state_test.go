package detector

import (
	"context"
	"testing"

	"github.com/astraguard/astraguard/internal/checkpoint"
)

// saveRestore checkpoints from into a temporary directory and restores
// the snapshot into to, returning the restoring keeper's stats.
func saveRestore(t *testing.T, from, to *Detector) checkpoint.Stats {
	t.Helper()
	dir := t.TempDir()
	k, err := checkpoint.New(dir, "d.snap", from.StateSignature())
	if err != nil {
		t.Fatal(err)
	}
	k.Add("series", from.StatePart())
	if err := k.Save(t.Context()); err != nil {
		t.Fatalf("Save: %v", err)
	}
	k2, _ := checkpoint.New(dir, "d.snap", to.StateSignature())
	k2.Add("series", to.StatePart())
	k2.Restore(t.Context())
	return k2.Stats()
}

// TestStatePartRestoresVerdicts: a detector restored from a checkpoint
// gives, for the rest of two series, the verdicts the original gives:
// same scores, sources and reasons, no WARMING_UP, and the watermark
// still rejects an old sample.
func TestStatePartRestoresVerdicts(t *testing.T) {
	orig := newEmbeddedDetector(t, 40, Config{})
	ctx := context.Background()
	orig.Score(ctx, nil, []Group{wave(0, 100, 0), wave(1, 100, 0)})
	restored := newEmbeddedDetector(t, 40, Config{})
	if st := saveRestore(t, orig, restored); st.Restored != 2 {
		t.Fatalf("restored %d series, want 2", st.Restored)
	}
	for start := 100; start < 300; start += 25 {
		groups := []Group{wave(0, 25, start), wave(1, 25, start)}
		want := orig.Score(ctx, nil, groups)
		got := restored.Score(ctx, nil, groups)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("sample %d+%d: restored verdict %+v, original %+v", start, i, got[i], want[i])
			}
			if got[i].Source != SourceModel {
				t.Fatalf("sample %d+%d: restored verdict %+v, want a model verdict", start, i, got[i])
			}
		}
	}
	if v := restored.Score(ctx, nil, []Group{wave(0, 1, 10)}); v[0].Err != ErrOutOfOrder {
		t.Errorf("an old sample after restore: %+v, want OUT_OF_ORDER", v[0])
	}
}

// TestStateSignatureSeparatesModels: a remote-model detector's snapshot
// has no model state, so an embedded-model detector must refuse it (and
// the other way round), as must one whose model is configured otherwise.
func TestStateSignatureSeparatesModels(t *testing.T) {
	embedded := newEmbeddedDetector(t, 40, Config{})
	other := newEmbeddedDetector(t, 41, Config{})
	remote, _ := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{})
	if embedded.StateSignature() == remote.StateSignature() || embedded.StateSignature() == other.StateSignature() {
		t.Fatal("StateSignature does not tell the models apart")
	}
	if newEmbeddedDetector(t, 40, Config{}).StateSignature() != embedded.StateSignature() {
		t.Fatal("StateSignature differs between equal detectors")
	}
	remote.Score(context.Background(), nil, []Group{wave(0, 10, 0)})
	fresh, _ := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{})
	if st := saveRestore(t, remote, fresh); st.Restored != 1 {
		t.Errorf("remote-model detector restored %d series, want 1", st.Restored)
	}
	if st := saveRestore(t, remote, embedded); st.RestoreErrors[checkpoint.ReasonIncompatible] != 1 {
		t.Errorf("embedded detector given a remote one's snapshot: %+v, want it refused as incompatible", st)
	}
}

// TestCheckpointWhileScoring: the embedded model's state is held through
// a pointer, so a checkpoint must encode a copy taken under the series'
// lock, not the state a scorer goes on updating (-race reports the
// latter). Every save succeeds and the last one restores both series.
func TestCheckpointWhileScoring(t *testing.T) {
	d := newEmbeddedDetector(t, 20, Config{})
	ctx := t.Context()
	d.Score(ctx, nil, []Group{wave(0, 30, 0), wave(1, 30, 0)})
	k, err := checkpoint.New(t.TempDir(), "d.snap", d.StateSignature())
	if err != nil {
		t.Fatal(err)
	}
	k.Add("series", d.StatePart())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var dst []Verdict
		for start := 30; start < 3030; start += 10 {
			dst = d.Score(ctx, dst[:0], []Group{wave(0, 10, start), wave(1, 10, start)})
		}
	}()
	for range 20 {
		if err := k.Save(ctx); err != nil {
			t.Fatalf("Save while scoring: %v", err)
		}
	}
	<-done
	if st := saveRestore(t, d, newEmbeddedDetector(t, 20, Config{})); st.Restored != 2 {
		t.Errorf("restored %d series, want 2", st.Restored)
	}
}
