package server

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// verdictsOf scores one sample and returns its verdict.
func (e *env) verdictOf(t *testing.T, v float64) *astraguardv1.Verdict {
	t.Helper()
	resp, err := e.detect.DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{
		Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/pressure", Values: []float64{v}}},
	})
	if err != nil {
		t.Fatalf("DetectBatch() error = %v", err)
	}
	return resp.GetVerdicts()[0]
}

func (e *env) breakerState(t *testing.T) *astraguardv1.Breaker {
	t.Helper()
	resp, err := e.admin.GetBreaker(t.Context(), &astraguardv1.GetBreakerRequest{Name: "model"})
	if err != nil {
		t.Fatalf("GetBreaker() error = %v", err)
	}
	return resp.GetBreaker()
}

func TestBreakerDrivesVerdictSource(t *testing.T) {
	e := newEnv(t, Config{})
	type step struct {
		name       string
		act        func()
		wantSource astraguardv1.Source
		wantReason astraguardv1.FallbackReason
		wantState  astraguardv1.BreakerState
	}
	steps := []step{
		{"healthy", func() {}, astraguardv1.Source_SOURCE_MODEL, 0, astraguardv1.BreakerState_BREAKER_STATE_CLOSED},
		{"first failure", func() { e.model.mode.Store(modelFail) }, astraguardv1.Source_SOURCE_HEURISTIC,
			astraguardv1.FallbackReason_FALLBACK_REASON_MODEL_ERROR, astraguardv1.BreakerState_BREAKER_STATE_CLOSED},
		{"second failure trips", func() { e.model.mode.Store(modelHang) }, astraguardv1.Source_SOURCE_HEURISTIC,
			astraguardv1.FallbackReason_FALLBACK_REASON_MODEL_TIMEOUT, astraguardv1.BreakerState_BREAKER_STATE_OPEN},
		{"open", func() {}, astraguardv1.Source_SOURCE_HEURISTIC,
			astraguardv1.FallbackReason_FALLBACK_REASON_BREAKER_OPEN, astraguardv1.BreakerState_BREAKER_STATE_OPEN},
		{"recovered after recovery timeout", func() {
			e.model.mode.Store(modelOK)
			e.clock.Advance(10 * time.Second)
		}, astraguardv1.Source_SOURCE_MODEL, 0, astraguardv1.BreakerState_BREAKER_STATE_CLOSED},
	}
	for _, s := range steps {
		s.act()
		v := e.verdictOf(t, 20)
		if v.GetSource() != s.wantSource || v.GetFallbackReason() != s.wantReason {
			t.Errorf("%s: verdict source %v reason %v, want %v %v", s.name, v.GetSource(), v.GetFallbackReason(), s.wantSource, s.wantReason)
		}
		if got := e.breakerState(t).GetState(); got != s.wantState {
			t.Errorf("%s: breaker %v, want %v", s.name, got, s.wantState)
		}
	}
	b := e.breakerState(t)
	if b.GetTrips() != 1 || b.GetRecoveries() != 1 || b.GetTotals().GetFailures() != 2 || b.GetTotals().GetRejected() != 1 {
		t.Errorf("breaker counts = trips %d recoveries %d totals %v, want 1, 1, 2 failures, 1 rejected",
			b.GetTrips(), b.GetRecoveries(), b.GetTotals())
	}
	if calls := e.model.calls.Load(); calls != 4 {
		t.Errorf("model calls = %d, want 4 (none while open)", calls)
	}
}

func TestForceBreakerWithExpiry(t *testing.T) {
	e := newEnv(t, Config{})
	resp, err := e.admin.ForceBreaker(t.Context(), &astraguardv1.ForceBreakerRequest{
		Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "maintenance", Ttl: durationpb.New(time.Minute),
	})
	if err != nil {
		t.Fatalf("ForceBreaker() error = %v", err)
	}
	b := resp.GetBreaker()
	if b.GetState() != astraguardv1.BreakerState_BREAKER_STATE_OPEN || b.GetOverride() != astraguardv1.Override_OVERRIDE_FORCED_OPEN ||
		b.GetOverrideReason() != "maintenance" || !b.GetOverrideExpireTime().AsTime().Equal(e.clock.Now().Add(time.Minute)) {
		t.Errorf("forced breaker = %v, want forced open for maintenance until +1m", b)
	}
	if v := e.verdictOf(t, 20); v.GetFallbackReason() != astraguardv1.FallbackReason_FALLBACK_REASON_FORCED_OPEN {
		t.Errorf("verdict while forced = %v, want FORCED_OPEN", v)
	}
	e.clock.Advance(time.Minute)
	if v := e.verdictOf(t, 20); v.GetSource() != astraguardv1.Source_SOURCE_MODEL {
		t.Errorf("verdict after expiry = %v, want the model (probe)", v)
	}
	if b := e.breakerState(t); b.GetOverride() != astraguardv1.Override_OVERRIDE_UNSPECIFIED || b.GetState() != astraguardv1.BreakerState_BREAKER_STATE_CLOSED {
		t.Errorf("breaker after expiry = %v, want closed without override", b)
	}
}

func TestResetBreaker(t *testing.T) {
	e := newEnv(t, Config{})
	e.model.mode.Store(modelFail)
	e.verdictOf(t, 1)
	e.verdictOf(t, 1)
	if s := e.breakerState(t).GetState(); s != astraguardv1.BreakerState_BREAKER_STATE_OPEN {
		t.Fatalf("state = %v, want OPEN", s)
	}
	e.model.mode.Store(modelOK)
	watch, err := e.admin.WatchBreakers(t.Context(), &astraguardv1.WatchBreakersRequest{Names: []string{"model"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil { // the snapshot
		t.Fatal(err)
	}
	resp, err := e.admin.ResetBreaker(t.Context(), &astraguardv1.ResetBreakerRequest{Name: "model", Reason: "fixed"})
	if err != nil {
		t.Fatalf("ResetBreaker() error = %v", err)
	}
	if msg, err := watch.Recv(); err != nil || msg.GetTransition().GetReason() != "reset: fixed" {
		t.Errorf("watched transition = %v, %v; want reason %q (the operator's)", msg, err, "reset: fixed")
	}
	if s := resp.GetBreaker().GetState(); s != astraguardv1.BreakerState_BREAKER_STATE_CLOSED {
		t.Errorf("state after reset = %v, want CLOSED", s)
	}
	if v := e.verdictOf(t, 20); v.GetSource() != astraguardv1.Source_SOURCE_MODEL {
		t.Errorf("verdict after reset = %v, want the model", v)
	}
}

func TestAdminErrors(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"get unknown", func() error {
			_, err := e.admin.GetBreaker(t.Context(), &astraguardv1.GetBreakerRequest{Name: "nope"})
			return err
		}, codes.NotFound},
		{"get empty name", func() error {
			_, err := e.admin.GetBreaker(t.Context(), &astraguardv1.GetBreakerRequest{})
			return err
		}, codes.InvalidArgument},
		{"force without reason", func() error {
			_, err := e.admin.ForceBreaker(t.Context(), &astraguardv1.ForceBreakerRequest{Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Ttl: durationpb.New(time.Minute)})
			return err
		}, codes.InvalidArgument},
		{"force without ttl", func() error {
			_, err := e.admin.ForceBreaker(t.Context(), &astraguardv1.ForceBreakerRequest{Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "x"})
			return err
		}, codes.InvalidArgument},
		{"force ttl too long", func() error {
			_, err := e.admin.ForceBreaker(t.Context(), &astraguardv1.ForceBreakerRequest{Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_CLOSED, Reason: "x", Ttl: durationpb.New(25 * time.Hour)})
			return err
		}, codes.InvalidArgument},
		{"reset unknown", func() error {
			_, err := e.admin.ResetBreaker(t.Context(), &astraguardv1.ResetBreakerRequest{Name: "nope"})
			return err
		}, codes.NotFound},
	}
	for _, tt := range tests {
		if got := status.Code(tt.call()); got != tt.want {
			t.Errorf("%s: code %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestWatchBreakersSeesTransitions(t *testing.T) {
	e := newEnv(t, Config{})
	stream, err := e.admin.WatchBreakers(t.Context(), &astraguardv1.WatchBreakersRequest{Names: []string{"model"}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if bs := first.GetSnapshot().GetBreakers(); len(bs) != 1 || bs[0].GetState() != astraguardv1.BreakerState_BREAKER_STATE_CLOSED {
		t.Fatalf("first message = %v, want a snapshot of the closed model breaker", first)
	}
	e.model.mode.Store(modelFail)
	e.verdictOf(t, 1)
	e.verdictOf(t, 1) // trips
	e.model.mode.Store(modelOK)
	e.clock.Advance(10 * time.Second)
	e.verdictOf(t, 1) // probe succeeds: half-open, then closed
	want := []struct{ from, to astraguardv1.BreakerState }{
		{astraguardv1.BreakerState_BREAKER_STATE_CLOSED, astraguardv1.BreakerState_BREAKER_STATE_OPEN},
		{astraguardv1.BreakerState_BREAKER_STATE_OPEN, astraguardv1.BreakerState_BREAKER_STATE_HALF_OPEN},
		{astraguardv1.BreakerState_BREAKER_STATE_HALF_OPEN, astraguardv1.BreakerState_BREAKER_STATE_CLOSED},
	}
	for i, w := range want {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv() %d error = %v", i, err)
		}
		tr := msg.GetTransition()
		if tr.GetName() != "model" || tr.GetFrom() != w.from || tr.GetTo() != w.to || tr.GetReason() == "" {
			t.Errorf("transition %d = %v, want model %v -> %v with a reason", i, tr, w.from, w.to)
		}
	}
}

// TestWatchBreakersUnknownName: a watch naming a breaker that does not
// exist is NOT_FOUND, as GetBreaker is; it sent an empty snapshot and then
// waited for ever, so a misspelt name looked like a quiet breaker.
func TestWatchBreakersUnknownName(t *testing.T) {
	e := newEnv(t, Config{})
	for _, names := range [][]string{{"modle"}, {"model", "nope"}} {
		stream, err := e.admin.WatchBreakers(t.Context(), &astraguardv1.WatchBreakersRequest{Names: names})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := stream.Recv()
		if status.Code(err) != codes.NotFound {
			t.Errorf("WatchBreakers(%q) first Recv() = %v, %v; want NotFound", names, msg, err)
		}
	}
}
