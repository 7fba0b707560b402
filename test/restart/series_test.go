package restart

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// The replayed data: a few series, one sample a minute ending an hour ago,
// long enough that the model is warm (300 samples) well before the cut.
const (
	samples = 800
	cut     = 500
	batch   = 50
)

var seriesIDs = []string{"sat1/temperature", "sat1/voltage", "sat2/wheel_speed"}

// base is the first sample's time, shared by every run of one test binary
// so the replays are identical.
var base = time.Now().Add(-time.Hour - samples*time.Minute).Truncate(time.Minute)

func sample(s, i int) (int64, float64) {
	ts := base.Add(time.Duration(i) * time.Minute).UnixNano()
	v := 20 + 3*math.Sin(float64(i)/30+float64(s)) + 0.2*math.Sin(float64(i*i%97))
	if i == 620 || i == 700+s {
		v += 12 // anomalies after the cut
	}
	return ts, v
}

// verdict is what must be equal across runs, the score as its bits.
type verdict struct {
	id        string
	ts        int64
	scoreBits uint64
	anomaly   bool
	limit     bool
	source    astraguardv1.Source
	reason    astraguardv1.FallbackReason
	errCode   astraguardv1.SampleErrorCode
}

func (v verdict) String() string {
	return fmt.Sprintf("%s@%d score=%v anomaly=%v source=%v reason=%v err=%v", v.id, v.ts,
		math.Float64frombits(v.scoreBits), v.anomaly, v.source, v.reason, v.errCode)
}

// replay sends samples [from, to) of every series, batch by batch, and
// returns the verdicts in order.
func replay(t *testing.T, ctx context.Context, p *proc, from, to int) []verdict {
	t.Helper()
	client := astraguardv1.NewDetectorServiceClient(p.conn())
	var out []verdict
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		req := &astraguardv1.DetectBatchRequest{}
		for s, id := range seriesIDs {
			ss := &astraguardv1.SeriesSamples{SeriesId: id}
			for i := lo; i < hi; i++ {
				ts, v := sample(s, i)
				ss.UnixNanos, ss.Values = append(ss.UnixNanos, ts), append(ss.Values, v)
			}
			req.Series = append(req.Series, ss)
		}
		res, err := client.DetectBatch(ctx, req)
		if err != nil {
			t.Fatalf("%s: DetectBatch [%d, %d): %v", p.Name, lo, hi, err)
		}
		for _, v := range res.GetVerdicts() {
			out = append(out, verdict{v.GetSeriesId(), v.GetUnixNanos(), math.Float64bits(v.GetScore()), v.GetAnomaly(),
				v.GetLimitViolation(), v.GetSource(), v.GetFallbackReason(), v.GetError().GetCode()})
		}
	}
	if want := (to - from) * len(seriesIDs); len(out) != want {
		t.Fatalf("%s: %d verdicts for [%d, %d), want %d", p.Name, len(out), from, to, want)
	}
	return out
}

// serviceArgs keep every verdict deterministic: a model call on a busy
// machine must not time out into a heuristic verdict in one run only.
func serviceArgs(dir string, extra ...string) []string {
	return append([]string{"--state-dir=" + dir, "--grace-period=5s", "--model-timeout=30s"}, extra...)
}

// uninterrupted is the reference: every sample through one process.
func uninterrupted(t *testing.T, ctx context.Context) []verdict {
	t.Helper()
	ref := start(t, "astraguard", "uninterrupted", serviceArgs(t.TempDir())...)
	all := replay(t, ctx, ref, 0, samples)
	ref.stop()
	return all
}

// compareAfterCut checks the verdicts of samples [from, samples) against
// the reference run, and that none is still warming up.
func compareAfterCut(t *testing.T, got, ref []verdict, from int) {
	t.Helper()
	want := ref[len(ref)-len(got):]
	model := 0
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("verdict %d after the restart: %v, uninterrupted run: %v", i, got[i], want[i])
		}
		if got[i].reason == astraguardv1.FallbackReason_FALLBACK_REASON_WARMING_UP {
			t.Fatalf("verdict %d after the restart is WARMING_UP: %v", i, got[i])
		}
		if got[i].source == astraguardv1.Source_SOURCE_MODEL {
			model++
		}
	}
	if model != len(got) {
		t.Errorf("%d of %d verdicts after the restart came from the model, want all", model, len(got))
	}
}

// TestGracefulRestartIsInvisible is the restart-equivalence property:
// replay part of the series, SIGTERM, restart on the same --state-dir,
// replay the rest; every verdict after the restart equals, bit for bit
// and with the same source, the uninterrupted run's.
func TestGracefulRestartIsInvisible(t *testing.T) {
	ctx := t.Context()
	ref := uninterrupted(t, ctx)
	dir := t.TempDir()
	p := start(t, "astraguard", "before", serviceArgs(dir)...)
	replay(t, ctx, p, 0, cut)
	p.stop()
	q := start(t, "astraguard", "after", serviceArgs(dir)...)
	compareAfterCut(t, replay(t, ctx, q, cut, samples), ref, cut)
	q.stop()
}

// TestKillLosesOnlySinceLastCheckpoint: with kill -9 the state is the last
// checkpoint's. The test waits for a checkpoint after the first part,
// sends more samples, kills the process before the next checkpoint and
// resends those samples: had they survived, the resent ones would be
// OUT_OF_ORDER; since they did not, every verdict equals the
// uninterrupted run's.
func TestKillLosesOnlySinceLastCheckpoint(t *testing.T) {
	ctx := t.Context()
	ref := uninterrupted(t, ctx)
	dir := t.TempDir()
	const lost = cut + batch
	p := start(t, "astraguard", "killed", serviceArgs(dir, "--checkpoint-interval=3s")...)
	replay(t, ctx, p, 0, cut)
	const saves = "astraguard_state_checkpoints_total"
	p.waitMetric(ctx, saves, p.metric(ctx, saves)+1) // two more saves: the second began after the first part
	replay(t, ctx, p, cut, lost)                     // then samples no checkpoint will hold
	_ = p.Kill()

	q := start(t, "astraguard", "restarted", serviceArgs(dir)...)
	compareAfterCut(t, replay(t, ctx, q, cut, samples), ref, cut)
	q.stop()
}

// TestKillDuringCheckpointsKeepsASnapshot kills the service again and
// again while it checkpoints every second (the shortest interval
// accepted), at varying points of that loop:
// every restart must find a snapshot it accepts, never a torn one, and
// stale temporary files must not pile up. (The state here is small, so
// few kills land inside a write; checkpoint's unit tests cover a failed
// write and a leftover temporary file directly.)
func TestKillDuringCheckpointsKeepsASnapshot(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	args := serviceArgs(dir, "--checkpoint-interval=1s") // the shortest accepted
	from := 0
	for round := range 5 {
		p := start(t, "astraguard", fmt.Sprint("round-", round), args...)
		if round > 0 {
			for _, reason := range []string{"unreadable", "truncated", "corrupt", "incompatible", "invalid"} {
				if n := p.metric(ctx, `astraguard_state_restore_errors_total{reason="`+reason+`"}`); n != 0 {
					t.Fatalf("round %d: astraguard_state_restore_errors_total{reason=%q} = %v after a kill -9", round, reason, n)
				}
			}
			if !strings.Contains(p.Log(), `"msg":"state restored"`) {
				t.Fatalf("round %d: no snapshot restored after a kill -9", round)
			}
		}
		replay(t, ctx, p, from, from+2*batch)
		from += 2 * batch
		p.waitMetric(ctx, "astraguard_state_checkpoints_total", 0)
		time.Sleep(time.Duration(round*3) * time.Millisecond) // vary where the kill lands
		_ = p.Kill()
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(tmp) > 1 {
		t.Errorf("temporary files left after five kills: %v (each start removes the previous ones)", tmp)
	}
}
