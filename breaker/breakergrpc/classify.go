package breakergrpc

import (
	"context"
	"errors"

	"github.com/astraguard/astraguard/breaker"
)

var _ breaker.Classifier = Classify

// Classify maps a gRPC client error to an Outcome: nil (and a status with
// code OK) is a Success; context.Canceled anywhere in the chain (the caller
// gave up: see ClassifyCall) is Ignored; every other error is a Failure,
// whatever its code: Unavailable, DeadlineExceeded and Internal, and equally
// NotFound, Unimplemented, InvalidArgument, FailedPrecondition,
// Unauthenticated or PermissionDenied, because the breaker guards a
// dependency that the service calls with requests of its own making, so a
// rejection of one says the dependency (its deployment, its model, its
// credentials) is unusable. Use it as breaker.WithClassifier(Classify).
func Classify(err error) breaker.Outcome {
	switch {
	case err == nil:
		return breaker.Success
	case errors.Is(err, context.DeadlineExceeded):
		return breaker.Failure
	case errors.Is(err, context.Canceled):
		return breaker.Ignored
	}
	return breaker.Failure // status.Code(err) is not OK: a non-nil status error never has code OK
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
