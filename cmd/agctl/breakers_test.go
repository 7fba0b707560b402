package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// fakeAdmin serves one breaker, "model", and records the last mutating
// request and the authorization metadata of the last call.
type fakeAdmin struct {
	astraguardv1.UnimplementedBreakerAdminServer

	mu    sync.Mutex
	model *astraguardv1.Breaker // guarded by mu
	last  proto.Message         // guarded by mu
	auth  []string              // guarded by mu
}

var _ astraguardv1.BreakerAdminServer = (*fakeAdmin)(nil)

func newFakeAdmin() *fakeAdmin {
	return &fakeAdmin{model: &astraguardv1.Breaker{
		Name:               "model",
		State:              astraguardv1.BreakerState_BREAKER_STATE_CLOSED,
		Trips:              2,
		Recoveries:         2,
		Totals:             &astraguardv1.BreakerCounts{Successes: 40, Rejected: 7},
		OpenDuration:       durationpb.New(6*time.Minute + 23965975941*time.Nanosecond),
		Settings:           &astraguardv1.BreakerSettings{FailureThreshold: 5, RecoveryTimeout: durationpb.New(time.Minute)},
		LastTransitionTime: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
	}}
}

func (f *fakeAdmin) get(ctx context.Context, name string, req proto.Message) (*astraguardv1.Breaker, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = md.Get("authorization")
	if req != nil {
		f.last = req
	}
	if name != "model" {
		return nil, status.Errorf(codes.NotFound, "no breaker %q", name)
	}
	return f.model, nil
}

func (f *fakeAdmin) ListBreakers(ctx context.Context, _ *astraguardv1.ListBreakersRequest) (*astraguardv1.ListBreakersResponse, error) {
	b, err := f.get(ctx, "model", nil)
	return &astraguardv1.ListBreakersResponse{Breakers: []*astraguardv1.Breaker{b}}, err
}

func (f *fakeAdmin) GetBreaker(ctx context.Context, req *astraguardv1.GetBreakerRequest) (*astraguardv1.GetBreakerResponse, error) {
	b, err := f.get(ctx, req.GetName(), nil)
	return &astraguardv1.GetBreakerResponse{Breaker: b}, err
}

func (f *fakeAdmin) ResetBreaker(ctx context.Context, req *astraguardv1.ResetBreakerRequest) (*astraguardv1.ResetBreakerResponse, error) {
	b, err := f.get(ctx, req.GetName(), req)
	return &astraguardv1.ResetBreakerResponse{Breaker: b}, err
}

func (f *fakeAdmin) ForceBreaker(ctx context.Context, req *astraguardv1.ForceBreakerRequest) (*astraguardv1.ForceBreakerResponse, error) {
	b, err := f.get(ctx, req.GetName(), req)
	if err != nil {
		return nil, err
	}
	b = proto.Clone(b).(*astraguardv1.Breaker)
	b.Override, b.OverrideReason = req.GetOverride(), req.GetReason()
	b.State = astraguardv1.BreakerState_BREAKER_STATE_OPEN
	return &astraguardv1.ForceBreakerResponse{Breaker: b}, nil
}

// WatchBreakers sends the snapshot and one transition, then ends.
func (f *fakeAdmin) WatchBreakers(req *astraguardv1.WatchBreakersRequest, stream astraguardv1.BreakerAdmin_WatchBreakersServer) error {
	b, err := f.get(stream.Context(), "model", req)
	if err != nil {
		return err
	}
	msgs := []*astraguardv1.WatchBreakersResponse{
		{Event: &astraguardv1.WatchBreakersResponse_Snapshot{Snapshot: &astraguardv1.ListBreakersResponse{Breakers: []*astraguardv1.Breaker{b}}}},
		{Event: &astraguardv1.WatchBreakersResponse_Transition{Transition: &astraguardv1.Transition{
			Name: "model", From: astraguardv1.BreakerState_BREAKER_STATE_CLOSED, To: astraguardv1.BreakerState_BREAKER_STATE_OPEN,
			Time: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)), Reason: "consecutive failures",
		}}},
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	return nil
}

func newAdminCLI(t *testing.T, env map[string]string) (*cli, *fakeAdmin, *bytes.Buffer) {
	t.Helper()
	fa := newFakeAdmin()
	c, stdout, _ := newTestCLI(t, env, func(s *grpc.Server) { astraguardv1.RegisterBreakerAdminServer(s, fa) })
	return c, fa, stdout
}

func TestBreakersTable(t *testing.T) {
	tests := []struct {
		args []string
		want []string // substrings of stdout
	}{
		{[]string{"list"}, []string{"NAME", "model", "closed", "2026-01-02T03:04:05Z"}},
		{[]string{"get", "model"}, []string{"state:", "closed", "rejected=7", "failure_threshold=5 recovery_timeout=1m0s",
			"time open (total):      6m24s\n", "ratio rules:            off"}},
		{[]string{"force", "model", "open", "--ttl", "24h", "--reason", "eval"}, []string{"forced_open (\"eval\")"}},
		{[]string{"watch", "model"}, []string{"model  closed", "2026-01-02T03:04:06Z  model  closed -> open  consecutive failures"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c, _, out := newAdminCLI(t, nil)
			args := append([]string{"breakers", "--addr", testAddr}, tt.args...)
			if err := c.run(t.Context(), args); err != nil {
				t.Fatalf("run(%q) = %v", args, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("run(%q) printed\n%s\nwant it to contain %q", args, out, w)
				}
			}
		})
	}
}

// TestBreakersGetPrintsRulesThatAreOn: the detail view shows the ratio
// rules that are on, each on its own line, and no line of zeros.
func TestBreakersGetPrintsRulesThatAreOn(t *testing.T) {
	c, fa, out := newAdminCLI(t, nil)
	fa.mu.Lock()
	fa.model.Settings.CountWindow = &astraguardv1.CountWindowSettings{Size: 100, MinCalls: 20, FailureRatio: 0.5}
	fa.model.Settings.SlowCallDuration, fa.model.Settings.SlowCallRatioThreshold = durationpb.New(80*time.Millisecond), 0.8
	fa.mu.Unlock()
	if err := c.run(t.Context(), []string{"breakers", "get", "model", "--addr", testAddr}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"count window:           failure_ratio=0.5 of the last 100 calls (min_calls=20)", "slow calls:             ratio=0.8 of calls slower than 80ms"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("breakers get printed\n%s\nwant it to contain %q", out, w)
		}
	}
	for _, no := range []string{"ratio rules", "time window", "backoff", "open for"} {
		if strings.Contains(out.String(), no) {
			t.Errorf("breakers get printed\n%s\nwant no %q line", out, no)
		}
	}
}

// TestCommonFlagsBeforeCommand: the common flags work before the command
// as after it, as the help's "Common flags" promise.
func TestCommonFlagsBeforeCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--addr", testAddr, "breakers", "get", "model"},
		{"--addr=" + testAddr, "--timeout", "5s", "breakers", "get", "model", "-o", "json"},
		{"--tls=false", "--addr", testAddr, "breaker", "list"},
	} {
		c, _, out := newAdminCLI(t, nil)
		if err := c.run(t.Context(), args); err != nil {
			t.Errorf("run(%q) = %v", args, err)
		} else if !strings.Contains(out.String(), "model") {
			t.Errorf("run(%q) printed %q, want the model breaker", args, out)
		}
	}
	for _, args := range [][]string{{"--addr"}, {"--addr", testAddr}, {"-o", "json", "breakers", "list"}} {
		c, _, _ := newAdminCLI(t, nil)
		if err := c.run(t.Context(), args); exitCodeOf(err) != 2 {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
}

func TestBreakersJSON(t *testing.T) {
	c, fa, out := newAdminCLI(t, map[string]string{"AGCTL_ADDR": testAddr})
	if err := c.run(t.Context(), []string{"breakers", "list", "-o", "json"}); err != nil {
		t.Fatalf("breakers list -o json = %v", err)
	}
	got := &astraguardv1.ListBreakersResponse{}
	if err := protojson.Unmarshal(out.Bytes(), got); err != nil {
		t.Fatalf("output %q is not a ListBreakersResponse: %v", out, err)
	}
	want := &astraguardv1.ListBreakersResponse{Breakers: []*astraguardv1.Breaker{fa.model}}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("list -o json (-want +got):\n%s", diff)
	}
}

func TestBreakersWatchJSONLines(t *testing.T) {
	c, _, out := newAdminCLI(t, nil)
	if err := c.run(t.Context(), []string{"breakers", "watch", "--addr", testAddr, "-o", "json"}); err != nil {
		t.Fatalf("breakers watch -o json = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("watch -o json printed %d lines, want 2 (snapshot, transition):\n%s", len(lines), out)
	}
	for _, l := range lines {
		if err := protojson.Unmarshal([]byte(l), &astraguardv1.WatchBreakersResponse{}); err != nil {
			t.Errorf("line %q is not a WatchBreakersResponse: %v", l, err)
		}
	}
}

func TestBreakersRequests(t *testing.T) {
	tests := []struct {
		args []string
		want proto.Message
	}{
		{[]string{"force", "model", "open", "--reason", "eval", "--ttl", "24h"}, &astraguardv1.ForceBreakerRequest{
			Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "eval", Ttl: durationpb.New(24 * time.Hour)}},
		{[]string{"force", "model", "closed", "--reason", "drill", "--ttl", "90s"}, &astraguardv1.ForceBreakerRequest{
			Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_CLOSED, Reason: "drill", Ttl: durationpb.New(90 * time.Second)}},
		{[]string{"force", "model", "clear"}, &astraguardv1.ForceBreakerRequest{Name: "model"}},
		{[]string{"reset", "model", "--reason", "fixed"}, &astraguardv1.ResetBreakerRequest{Name: "model", Reason: "fixed"}},
		{[]string{"watch", "a", "b"}, &astraguardv1.WatchBreakersRequest{Names: []string{"a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c, fa, _ := newAdminCLI(t, map[string]string{"AGCTL_TOKEN": "s3cret"})
			args := append([]string{"breakers", "--addr", testAddr}, tt.args...)
			if err := c.run(t.Context(), args); err != nil {
				t.Fatalf("run(%q) = %v", args, err)
			}
			fa.mu.Lock()
			defer fa.mu.Unlock()
			if diff := cmp.Diff(tt.want, fa.last, protocmp.Transform()); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"Bearer s3cret"}, fa.auth); diff != "" {
				t.Errorf("authorization metadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBreakersErrors(t *testing.T) {
	c, fa, _ := newAdminCLI(t, nil)
	err := c.run(t.Context(), []string{"breakers", "get", "nope", "--addr", testAddr, "--token", "flagtoken"})
	if exitCodeOf(err) != 1 || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("breakers get nope = %v, want exit 1 with NotFound", err)
	}
	fa.mu.Lock()
	if diff := cmp.Diff([]string{"Bearer flagtoken"}, fa.auth); diff != "" {
		t.Errorf("authorization metadata (-want +got):\n%s", diff)
	}
	fa.mu.Unlock()
	err = c.run(t.Context(), []string{"breakers", "--addr", testAddr, "force", "model", "open", "--ttl", "1h"})
	if exitCodeOf(err) != 2 {
		t.Errorf("force open without --reason = %v, want a usage error", err)
	}
}

// hostileAdmin is a server that answers with terminal escape sequences and
// line breaks in every string it controls.
type hostileAdmin struct {
	astraguardv1.UnimplementedBreakerAdminServer
}

const hostile = "model\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\r\n2026-01-02T03:04:06Z  model  open -> closed  all clear"

func (hostileAdmin) ListBreakers(context.Context, *astraguardv1.ListBreakersRequest) (*astraguardv1.ListBreakersResponse, error) {
	return &astraguardv1.ListBreakersResponse{Breakers: []*astraguardv1.Breaker{{Name: hostile}}}, nil
}

func (hostileAdmin) GetBreaker(context.Context, *astraguardv1.GetBreakerRequest) (*astraguardv1.GetBreakerResponse, error) {
	return nil, status.Error(codes.NotFound, hostile)
}

func (hostileAdmin) WatchBreakers(_ *astraguardv1.WatchBreakersRequest, stream astraguardv1.BreakerAdmin_WatchBreakersServer) error {
	return stream.Send(&astraguardv1.WatchBreakersResponse{Event: &astraguardv1.WatchBreakersResponse_Transition{
		Transition: &astraguardv1.Transition{Name: hostile, Reason: hostile}}})
}

// TestBreakersEscapeServerText: what a server sends (names, reasons, error
// messages) reaches the terminal with its control characters escaped, so
// a hostile server can neither send escape sequences (here OSC 52, which
// sets the clipboard, and a screen clear) nor forge a line of output.
// They were printed as sent.
func TestBreakersEscapeServerText(t *testing.T) {
	for _, args := range [][]string{{"list"}, {"watch"}, {"get", "model"}} {
		t.Run(args[0], func(t *testing.T) {
			c, stdout, stderr := newTestCLI(t, nil, func(s *grpc.Server) { astraguardv1.RegisterBreakerAdminServer(s, hostileAdmin{}) })
			err := c.run(t.Context(), append([]string{"breakers", "--addr", testAddr}, args...))
			if err != nil {
				exitCode(err, stderr)
			}
			for _, out := range []string{stdout.String(), stderr.String()} {
				if strings.ContainsAny(out, "\x1b\x07\r") || strings.Contains(out, "\n2026-01-02T03:04:06Z  model  open -> closed") {
					t.Errorf("breakers %s printed %q: control characters or a forged line", args[0], out)
				}
			}
			if !strings.Contains(stdout.String()+stderr.String(), `\x1b]52`) {
				t.Errorf("breakers %s printed %q, want the name with its escapes shown", args[0], stdout.String()+stderr.String())
			}
		})
	}
}
