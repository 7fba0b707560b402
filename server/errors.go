package server

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Names of the service's limits, as LimitError.Limit and README use them.
const (
	LimitSamplesPerRequest = "samples per request"
	LimitSeriesPerStream   = "series per stream"
	LimitDetectStreams     = "open Detect streams"
	LimitRate              = "rate"
	LimitSendTimeout       = "send timeout"
	LimitMessageSize       = "message size"
	// LimitQueuedBytes is broken by a decoded request that finds the
	// waiting room of MaxQueuedBytes full (room).
	LimitQueuedBytes = "queued bytes"
	// LimitConnections is broken by a connection beyond its client's
	// share, Config.MaxConnectionsPerClient; it is closed on accept, so
	// it is only counted, never sent.
	LimitConnections = "connections per client"
)

// LimitError reports a request over one of the service's limits. It maps
// to RESOURCE_EXHAUSTED and its message names the limit.
type LimitError struct {
	Limit string // one of the Limit* names
	Max   int
	Got   int
	// Detail, when set, explains the breach instead of "Got > Max", for
	// limits that are not a count (rate, send timeout).
	Detail string
}

func (e *LimitError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("limit exceeded: %s: %s", e.Limit, e.Detail)
	}
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
// of unexpected errors are not sent to clients. An error that already is a
// status (from the transport, e.g. an oversized message) passes unchanged.
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
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Internal, "internal error")
}
