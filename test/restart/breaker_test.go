package restart

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

func getModelBreaker(t *testing.T, ctx context.Context, p *proc) *astraguardv1.Breaker {
	t.Helper()
	res, err := astraguardv1.NewBreakerAdminClient(p.conn()).GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: "model"})
	if err != nil {
		t.Fatalf("GetBreaker: %v", err)
	}
	return res.GetBreaker()
}

// detectOne scores one sample and returns its verdict.
func detectOne(t *testing.T, ctx context.Context, p *proc, id string, ts int64, v float64) *astraguardv1.Verdict {
	t.Helper()
	res, err := astraguardv1.NewDetectorServiceClient(p.conn()).DetectBatch(ctx, &astraguardv1.DetectBatchRequest{
		Series: []*astraguardv1.SeriesSamples{{SeriesId: id, UnixNanos: []int64{ts}, Values: []float64{v}}},
	})
	if err != nil || len(res.GetVerdicts()) != 1 {
		t.Fatalf("DetectBatch: %v, %d verdicts", err, len(res.GetVerdicts()))
	}
	return res.GetVerdicts()[0]
}

// TestForcedOpenSurvivesRestart: a maintenance override set before a
// graceful restart is in force after it, with its reason and original
// expiry, and verdicts still say FORCED_OPEN.
func TestForcedOpenSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	args := []string{"--state-dir=" + dir, "--grace-period=1s"}
	p := start(t, "astraguard", "before", args...)
	res, err := astraguardv1.NewBreakerAdminClient(p.conn()).ForceBreaker(ctx, &astraguardv1.ForceBreakerRequest{
		Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "model maintenance", Ttl: durationpb.New(time.Hour),
	})
	if err != nil {
		t.Fatalf("ForceBreaker: %v", err)
	}
	expiry := res.GetBreaker().GetOverrideExpireTime().AsTime()
	p.stop()

	q := start(t, "astraguard", "after", args...)
	b := getModelBreaker(t, ctx, q)
	if b.GetOverride() != astraguardv1.Override_OVERRIDE_FORCED_OPEN || b.GetOverrideReason() != "model maintenance" ||
		!b.GetOverrideExpireTime().AsTime().Equal(expiry) {
		t.Errorf("after restart: override %v %q until %v; want FORCED_OPEN %q until %v",
			b.GetOverride(), b.GetOverrideReason(), b.GetOverrideExpireTime().AsTime(), "model maintenance", expiry)
	}
	if v := detectOne(t, ctx, q, "sat1/voltage", time.Now().UnixNano(), 8); v.GetFallbackReason() != astraguardv1.FallbackReason_FALLBACK_REASON_FORCED_OPEN {
		t.Errorf("verdict after restart: %v, want FORCED_OPEN", v)
	}
	q.stop()
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestOpenBreakerStaysOpenUntilProbeTime: a breaker opened by a dead model
// is still OPEN after a restart, with the same probe time, instead of
// sending traffic straight back to the dead model.
func TestOpenBreakerStaysOpenUntilProbeTime(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	args := []string{"--state-dir=" + dir, "--grace-period=1s", "--model-addr=" + closedPort(t),
		"--failure-threshold=1", "--recovery-timeout=1h"}
	p := start(t, "astraguard", "before", args...)
	detectOne(t, ctx, p, "sat1/voltage", time.Now().UnixNano(), 8)
	b := getModelBreaker(t, ctx, p)
	if b.GetState() != astraguardv1.BreakerState_BREAKER_STATE_OPEN {
		t.Fatalf("breaker after a failed model call: %v, want OPEN", b.GetState())
	}
	probe := b.GetNextProbeTime().AsTime()
	p.stop()

	q := start(t, "astraguard", "after", args...)
	b = getModelBreaker(t, ctx, q)
	if b.GetState() != astraguardv1.BreakerState_BREAKER_STATE_OPEN || !b.GetNextProbeTime().AsTime().Equal(probe) {
		t.Errorf("after restart: %v next probe %v, want OPEN next probe %v", b.GetState(), b.GetNextProbeTime().AsTime(), probe)
	}
	if v := detectOne(t, ctx, q, "sat1/voltage", time.Now().UnixNano(), 8); v.GetFallbackReason() != astraguardv1.FallbackReason_FALLBACK_REASON_BREAKER_OPEN {
		t.Errorf("verdict after restart: %v, want BREAKER_OPEN", v)
	}
	q.stop()
}

// TestDamagedSnapshotStartsFresh: a truncated, corrupt or incompatible
// snapshot never stops the service: it starts fresh, keeps the file aside
// and counts it by reason.
func TestDamagedSnapshotStartsFresh(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	p := start(t, "astraguard", "writer", "--state-dir="+dir, "--grace-period=1s")
	if _, err := astraguardv1.NewBreakerAdminClient(p.conn()).ForceBreaker(ctx, &astraguardv1.ForceBreakerRequest{
		Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "x", Ttl: durationpb.New(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	p.stop()
	good, err := os.ReadFile(filepath.Join(dir, "astraguard.snap"))
	if err != nil {
		t.Fatalf("no snapshot after a graceful stop: %v", err)
	}
	flip := func(i int) []byte { b := append([]byte(nil), good...); b[i] ^= 0xff; return b }
	tests := []struct {
		reason string
		data   []byte
	}{
		{"truncated", good[:len(good)*2/3]},
		{"corrupt", flip(len(good) - 10)},
		{"incompatible", flip(8)}, // the format version
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "astraguard.snap")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			q := start(t, "astraguard", tt.reason, "--state-dir="+dir, "--grace-period=1s")
			if n := q.metric(ctx, `astraguard_state_restore_errors_total{reason="`+tt.reason+`"}`); n != 1 {
				t.Errorf("astraguard_state_restore_errors_total{reason=%q} = %v, want 1", tt.reason, n)
			}
			if b := getModelBreaker(t, ctx, q); b.GetOverride() != astraguardv1.Override_OVERRIDE_UNSPECIFIED {
				t.Errorf("override after a refused snapshot: %v, want none", b.GetOverride())
			}
			aside, _ := filepath.Glob(path + "." + tt.reason + "-*")
			if len(aside) != 1 {
				t.Errorf("files set aside: %v, want one %s file", aside, tt.reason)
			}
			q.stop()
			if _, err := os.Stat(path); err != nil {
				t.Errorf("no fresh snapshot after the graceful stop: %v", err)
			}
		})
	}
}
