package breakergrpc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/breaker/breakergrpc"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want breaker.Outcome
	}{
		{nil, breaker.Success},
		{status.Error(codes.Unavailable, "down"), breaker.Failure},
		{status.Error(codes.Internal, "bug"), breaker.Failure},
		{status.Error(codes.Unknown, "?"), breaker.Failure},
		{status.Error(codes.DataLoss, "lost"), breaker.Failure},
		{status.Error(codes.ResourceExhausted, "busy"), breaker.Failure},
		{status.Error(codes.DeadlineExceeded, "slow"), breaker.Failure},
		{context.DeadlineExceeded, breaker.Failure},
		{fmt.Errorf("predict: %w", context.DeadlineExceeded), breaker.Failure},
		{fmt.Errorf("predict: %w", status.Error(codes.Unavailable, "down")), breaker.Failure},
		{errors.New("not a status"), breaker.Failure},
		// A Canceled status the caller did not cause (its ctx error is not
		// in the chain) is the server's doing.
		{status.Error(codes.Canceled, "bye"), breaker.Failure},
		{context.Canceled, breaker.Ignored},
		{fmt.Errorf("predict: %w", context.Canceled), breaker.Ignored},
		{fmt.Errorf("infer: %w: %w", status.Error(codes.Canceled, "x"), context.Canceled), breaker.Ignored},
		// The service's own well-formed call rejected: the dependency is
		// unusable, so these count as failures too.
		{status.Error(codes.InvalidArgument, "bad"), breaker.Failure},
		{status.Error(codes.NotFound, "no model"), breaker.Failure},
		{status.Error(codes.PermissionDenied, "no"), breaker.Failure},
		{status.Error(codes.Unauthenticated, "who"), breaker.Failure},
		{status.Error(codes.FailedPrecondition, "no"), breaker.Failure},
		{status.Error(codes.Unimplemented, "no"), breaker.Failure},
		{status.Error(codes.AlreadyExists, "no"), breaker.Failure},
		{status.Error(codes.OK, ""), breaker.Success},
	}
	for _, tt := range tests {
		if got := breakergrpc.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestClassifyCall(t *testing.T) {
	live := t.Context()
	done, cancel := context.WithCancel(t.Context())
	cancel()
	deadline := status.Error(codes.DeadlineExceeded, "model slow")
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want breaker.Outcome
	}{
		{"deadline while caller had time", live, deadline, breaker.Failure},
		{"deadline after caller gave up", done, deadline, breaker.Ignored},
		{"unavailable after caller gave up", done, status.Error(codes.Unavailable, "x"), breaker.Ignored},
		{"success after caller gave up", done, nil, breaker.Success},
		{"unavailable while caller waits", live, status.Error(codes.Unavailable, "x"), breaker.Failure},
		{"invalid argument", live, status.Error(codes.InvalidArgument, "x"), breaker.Failure},
		{"not found after caller gave up", done, status.Error(codes.NotFound, "x"), breaker.Ignored},
	}
	for _, tt := range tests {
		if got := breakergrpc.ClassifyCall(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: ClassifyCall(ctx, %v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
