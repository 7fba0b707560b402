package restart

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
)

// prediction is a model answer with the score as its bits.
type prediction struct {
	scoreBits     uint64
	anomaly, warm bool
}

// infer sends samples [from, to) of every series to a model server in
// batches and returns its predictions in order.
func infer(t *testing.T, ctx context.Context, p *proc, from, to int) []prediction {
	t.Helper()
	conn, err := oip.NewConn(p.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client, err := oip.New(conn, oip.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var out []prediction
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		var groups []detector.Group
		for s, id := range seriesIDs {
			g := detector.Group{SeriesID: id}
			for i := lo; i < hi; i++ {
				ts, v := sample(s, i)
				g.UnixNanos, g.Values = append(g.UnixNanos, ts), append(g.Values, v)
			}
			groups = append(groups, g)
		}
		preds := make([]detector.Prediction, (hi-lo)*len(seriesIDs))
		if err := client.Predict(ctx, groups, preds); err != nil {
			t.Fatalf("%s: Predict [%d, %d): %v", p.Name, lo, hi, err)
		}
		for _, pr := range preds {
			out = append(out, prediction{math.Float64bits(pr.Score), pr.Anomaly, pr.Warm})
		}
	}
	return out
}

// TestModelServerRestart: astraguard-model keeps its per-series state
// across a graceful restart on the same --state-dir (every prediction
// after it equals the uninterrupted run's, all warm), and a damaged
// snapshot is set aside and counted.
func TestModelServerRestart(t *testing.T) {
	ctx := t.Context()
	ref := start(t, "astraguard-model", "model-uninterrupted", "--state-dir="+t.TempDir())
	want := infer(t, ctx, ref, 0, samples)[cut*len(seriesIDs):]
	ref.stop()

	dir := t.TempDir()
	p := start(t, "astraguard-model", "model-before", "--state-dir="+dir)
	infer(t, ctx, p, 0, cut)
	p.stop()
	q := start(t, "astraguard-model", "model-after", "--state-dir="+dir)
	got := infer(t, ctx, q, cut, samples)
	for i := range got {
		if got[i] != want[i] || !got[i].warm {
			t.Fatalf("prediction %d after the restart: %+v, uninterrupted run: %+v (want warm)", i, got[i], want[i])
		}
	}
	q.stop()

	path := filepath.Join(dir, "astraguard-model.snap")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	r := start(t, "astraguard-model", "model-truncated", "--state-dir="+dir)
	if n := r.metric(ctx, `astraguard_state_restore_errors_total{reason="truncated"}`); n != 1 {
		t.Errorf("astraguard_state_restore_errors_total{reason=\"truncated\"} = %v, want 1", n)
	}
	if pr := infer(t, ctx, r, cut, cut+1); pr[0].warm {
		t.Errorf("after a refused snapshot the series is warm: %+v; want a fresh start", pr[0])
	}
	if aside, _ := filepath.Glob(path + ".truncated-*"); len(aside) != 1 {
		t.Errorf("files set aside: %v, want one", aside)
	}
	r.stop()
}
