package connlimit

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type clientStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s clientStream) Context() context.Context { return s.ctx }

type clientKey struct{}

// TestStreamInterceptorBounds opens streams through the interceptor from
// inside each other's handlers (so they are all open at once): the
// per-client bound, then the total, refuse with RESOURCE_EXHAUSTED naming
// the limit, each refusal counted once; an exempt method passes beyond
// both; a closed stream frees its slot.
func TestStreamInterceptorBounds(t *testing.T) {
	refused := 0
	icpt := StreamInterceptor(StreamBound{
		Max: 3, PerClient: 2, Exempt: []string{"/own/Budget"},
		Key:      func(ctx context.Context) string { return ctx.Value(clientKey{}).(string) },
		OnRefuse: func() { refused++ },
	})
	open := func(client, method string, inside func() error) error {
		ss := clientStream{ctx: context.WithValue(t.Context(), clientKey{}, client)}
		return icpt(nil, ss, &grpc.StreamServerInfo{FullMethod: method}, func(any, grpc.ServerStream) error { return inside() })
	}
	const watch = "/grpc.health.v1.Health/Watch"
	want := func(err error, detail string) {
		t.Helper()
		if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), LimitOtherStreams+": "+detail) {
			t.Errorf("stream = %v, want RESOURCE_EXHAUSTED naming %q: %s", err, LimitOtherStreams, detail)
		}
	}
	err := open("a", watch, func() error {
		return open("a", watch, func() error {
			want(open("a", watch, func() error { return nil }), "2 per client")
			if err := open("a", "/own/Budget", func() error { return nil }); err != nil {
				t.Errorf("exempt method = %v, want it to pass", err)
			}
			return open("b", watch, func() error {
				want(open("c", watch, func() error { return nil }), "4 > 3")
				return nil
			})
		})
	})
	if err != nil {
		t.Fatalf("streams within the bounds = %v", err)
	}
	if refused != 2 {
		t.Errorf("OnRefuse called %d times, want 2", refused)
	}
	// Every stream above closed: the full budget is free again.
	err = open("a", watch, func() error {
		return open("a", watch, func() error { return open("c", watch, func() error { return nil }) })
	})
	if err != nil {
		t.Errorf("streams after the others closed = %v, want their slots free", err)
	}
}
