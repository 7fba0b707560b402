package server

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// LimitError reports a request over one of the service's limits. It maps
// to RESOURCE_EXHAUSTED and its message names the limit.
type LimitError struct {
	Limit string
	Max   int
	Got   int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("limit exceeded: %s: %d > %d", e.Limit, e.Got, e.Max)
}

// errNotFound marks a request for something that does not exist.
var errNotFound = errors.New("not found")

// errInvalidArgument marks a malformed request; the message is for the client.
var errInvalidArgument = errors.New("invalid argument")

func invalidArgf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalidArgument, fmt.Sprintf(format, args...))
}

// toStatus is the one place that maps errors to gRPC statuses. Messages
// of unexpected errors are not sent to clients.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var limit *LimitError
	switch {
	case errors.As(err, &limit):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, errInvalidArgument):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, errNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Internal, "internal error")
}
