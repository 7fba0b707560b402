package breakergrpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/breaker"
)

var _ breaker.Classifier = Classify

// Classify maps a gRPC client error to an Outcome: nil is a Success; the
// codes Unavailable, Internal, Unknown, DataLoss, ResourceExhausted and
// DeadlineExceeded, and context.DeadlineExceeded, are Failures;
// context.Canceled, codes.Canceled and every other code are Ignored. An error
// that is not a gRPC status has code Unknown and so is a Failure. Use it as
// breaker.WithClassifier(breakergrpc.Classify).
func Classify(err error) breaker.Outcome {
	switch {
	case err == nil:
		return breaker.Success
	case errors.Is(err, context.DeadlineExceeded):
		return breaker.Failure
	case errors.Is(err, context.Canceled):
		return breaker.Ignored
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Internal, codes.Unknown, codes.DataLoss,
		codes.ResourceExhausted, codes.DeadlineExceeded:
		return breaker.Failure
	}
	return breaker.Ignored
}

// ClassifyCall is Classify for a call made on behalf of callerCtx: once the
// caller's context is done (cancelled, or its own deadline passed) any error
// is Ignored, since the call was cut short by the caller rather than failed
// by the server. A DeadlineExceeded while the caller still had time is a
// Failure. Pass the result to Breaker.Record:
//
//	err := model.Predict(ctx, in)
//	b.Record(ticket, breakergrpc.ClassifyCall(ctx, err))
func ClassifyCall(callerCtx context.Context, err error) breaker.Outcome {
	if err != nil && callerCtx.Err() != nil {
		return breaker.Ignored
	}
	return Classify(err)
}
