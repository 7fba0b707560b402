package server

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToStatus(t *testing.T) {
	tests := []struct {
		err     error
		code    codes.Code
		message string
	}{
		{nil, codes.OK, ""},
		{fmt.Errorf("request %q: %w", "r", &LimitError{Limit: "samples per request", Max: 1, Got: 2}), codes.ResourceExhausted,
			`request "r": limit exceeded: samples per request: 2 > 1`},
		{invalidArgf("reason is required"), codes.InvalidArgument, "invalid argument: reason is required"},
		{fmt.Errorf("breaker %q: %w", "x", errNotFound), codes.NotFound, `breaker "x": not found`},
		{fmt.Errorf("wrapped: %w", context.Canceled), codes.Canceled, ""},
		{context.DeadlineExceeded, codes.DeadlineExceeded, ""},
		{errors.New("secret internal detail"), codes.Internal, "internal error"},
	}
	for _, tt := range tests {
		got := status.Convert(toStatus(tt.err))
		if got.Code() != tt.code || (tt.message != "" && got.Message() != tt.message) {
			t.Errorf("toStatus(%v) = %v %q, want %v %q", tt.err, got.Code(), got.Message(), tt.code, tt.message)
		}
	}
}
