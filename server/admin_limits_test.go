package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestAdminStringsValidated sends every admin string through the real
// server with each kind of bad value: each call is INVALID_ARGUMENT, and
// the bounds themselves are accepted.
func TestAdminStringsValidated(t *testing.T) {
	e := newEnv(t, Config{})
	ttl := durationpb.New(time.Minute)
	force := func(reason string) *astraguardv1.ForceBreakerRequest {
		return &astraguardv1.ForceBreakerRequest{Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: reason, Ttl: ttl}
	}
	long, max := strings.Repeat("r", maxAdminString+1), strings.Repeat("é", maxAdminString/2)
	invoke := func(method string, req any) error {
		var resp astraguardv1.ForceBreakerResponse // every unary admin response has field 1 = Breaker
		return e.conn.Invoke(t.Context(), "/astraguard.v1.BreakerAdmin/"+method, req, &resp, sendRaw)
	}
	if err := invoke("ForceBreaker", force(max)); err != nil {
		t.Fatalf("ForceBreaker(reason of %d bytes) = %v, want OK", len(max), err)
	}
	if got := e.breakerState(t).GetOverrideReason(); got != max {
		t.Errorf("override reason = %.20q..., want the one at the bound", got)
	}
	tests := []struct {
		name   string
		method string
		req    any
		want   codes.Code
	}{
		{"force reason of spaces", "ForceBreaker", force("   "), codes.InvalidArgument},
		{"force reason of a tab", "ForceBreaker", force("\t"), codes.InvalidArgument},
		{"force reason too long", "ForceBreaker", force(long), codes.InvalidArgument},
		{"force reason with a newline", "ForceBreaker", force("ok\n{\"level\":\"INFO\"}"), codes.InvalidArgument},
		{"force reason with an escape", "ForceBreaker", force("\x1b[31mred"), codes.InvalidArgument},
		{"force reason not UTF-8", "ForceBreaker", corrupt(t, force("XX"), "XX"), codes.InvalidArgument},
		{"clear reason too long", "ForceBreaker", &astraguardv1.ForceBreakerRequest{Name: "model", Reason: long}, codes.InvalidArgument},
		{"reset reason too long", "ResetBreaker", &astraguardv1.ResetBreakerRequest{Name: "model", Reason: long}, codes.InvalidArgument},
		{"reset reason not UTF-8", "ResetBreaker", corrupt(t, &astraguardv1.ResetBreakerRequest{Name: "model", Reason: "XX"}, "XX"), codes.InvalidArgument},
		{"reset without a reason", "ResetBreaker", &astraguardv1.ResetBreakerRequest{Name: "model"}, codes.OK},
		{"name not UTF-8", "GetBreaker", corrupt(t, &astraguardv1.GetBreakerRequest{Name: "mo\u00e9del"}, "\u00e9"), codes.InvalidArgument},
		{"name too long", "GetBreaker", &astraguardv1.GetBreakerRequest{Name: long}, codes.InvalidArgument},
		{"name of spaces", "GetBreaker", &astraguardv1.GetBreakerRequest{Name: "  "}, codes.InvalidArgument},
		{"name with a control", "ResetBreaker", &astraguardv1.ResetBreakerRequest{Name: "model\x00"}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := invoke(tt.method, tt.req); status.Code(err) != tt.want {
				t.Errorf("%s = %v, want %v", tt.method, err, tt.want)
			}
		})
	}

	for name, req := range map[string]proto.Message{
		"name too long":   &astraguardv1.WatchBreakersRequest{Names: []string{"model", long}},
		"too many names":  &astraguardv1.WatchBreakersRequest{Names: make([]string, maxWatchNames+1)},
		"name of nothing": &astraguardv1.WatchBreakersRequest{Names: []string{""}},
	} {
		stream, err := e.admin.WatchBreakers(t.Context(), req.(*astraguardv1.WatchBreakersRequest))
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("WatchBreakers(%s) = %v, want InvalidArgument", name, err)
		}
	}
}

// clientFromHeader keys a call's client by its "client" metadata, so one
// test connection can speak as several clients.
func clientFromHeader(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	return strings.Join(md.Get("client"), "")
}

// TestWatchStreamsBounded opens watches as two clients until each limit
// refuses one, and checks a slot freed by a closed watch is reused.
func TestWatchStreamsBounded(t *testing.T) {
	e := newTCPEnv(t, Config{MaxWatchStreams: 3, MaxWatchStreamsPerClient: 2}, tcpOptions{opts: []Option{WithClientKey(clientFromHeader)}})
	_, conn := e.client(t)
	admin := astraguardv1.NewBreakerAdminClient(conn)
	watch := func(client string) (context.CancelFunc, error) {
		ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(t.Context(), "client", client))
		stream, err := admin.WatchBreakers(ctx, &astraguardv1.WatchBreakersRequest{}, grpc.WaitForReady(true))
		if err == nil {
			_, err = stream.Recv() // the snapshot, or the refusal
		}
		if err != nil {
			cancel()
		}
		return cancel, err
	}
	want := func(client string, code codes.Code) context.CancelFunc {
		t.Helper()
		cancel, err := watch(client)
		if status.Code(err) != code {
			t.Fatalf("watch as %s = %v, want %v", client, err, code)
		}
		if code == codes.ResourceExhausted && !strings.Contains(err.Error(), LimitWatchStreams) {
			t.Errorf("refusal %q does not name the limit %q", err, LimitWatchStreams)
		}
		return cancel
	}
	a1 := want("a", codes.OK)
	defer a1()
	defer want("a", codes.OK)()
	want("a", codes.ResourceExhausted) // per client
	defer want("b", codes.OK)()
	want("b", codes.ResourceExhausted) // in total
	a1()
	// The server frees the slot once it sees the cancel; retry until then.
	for {
		cancel, err := watch("b")
		if err == nil {
			cancel()
			break
		}
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("watch as b after a watch closed = %v", err)
		}
	}
}

// TestPageStreamsShareWatchBounds: the breaker page's event streams
// (Hub.Subscribe) and WatchBreakers streams hold slots of one budget, per
// client and in total, so neither transport can take more than the bounds.
func TestPageStreamsShareWatchBounds(t *testing.T) {
	e := newTCPEnv(t, Config{MaxWatchStreams: 3, MaxWatchStreamsPerClient: 2}, tcpOptions{opts: []Option{WithClientKey(clientFromHeader)}})
	hub := e.srv.admin.hub
	_, conn := e.client(t)
	admin := astraguardv1.NewBreakerAdminClient(conn)
	watch := func(client string) error {
		ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(t.Context(), "client", client))
		defer cancel()
		stream, err := admin.WatchBreakers(ctx, &astraguardv1.WatchBreakersRequest{})
		if err == nil {
			_, err = stream.Recv() // the snapshot, or the refusal
		}
		return err
	}
	var cancels []func()
	for range 2 {
		_, _, cancel, err := hub.Subscribe("a")
		if err != nil {
			t.Fatalf("page stream as a = %v, want a slot", err)
		}
		cancels = append(cancels, cancel)
	}
	if err := watch("a"); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("WatchBreakers as a with 2 page streams open = %v, want RESOURCE_EXHAUSTED", err)
	}
	var le *LimitError
	if _, _, _, err := hub.Subscribe("a"); !errors.As(err, &le) || le.Limit != LimitWatchStreams {
		t.Errorf("third page stream as a = %v, want the watch streams limit", err)
	}
	_, _, cancelB, err := hub.Subscribe("b")
	if err != nil {
		t.Fatalf("page stream as b = %v, want a slot", err)
	}
	if _, _, _, err := hub.Subscribe("c"); !errors.As(err, &le) {
		t.Errorf("fourth page stream = %v, want the total limit", err)
	}
	cancels[0]()
	cancels[0]() // a second cancel frees nothing more
	if err := watch("a"); err != nil {
		t.Errorf("WatchBreakers as a after a page stream closed = %v, want served", err)
	}
	cancels[1]()
	cancelB()
}
