// Package breakergrpc classifies gRPC call errors for package breaker, so
// that breaker itself never imports gRPC.
//
// The failures that count are the dependency's: Unavailable, Internal,
// Unknown, DataLoss, ResourceExhausted and DeadlineExceeded (the model ran
// out of time while the caller still had some). A caller that cancels or
// hangs up is not a model failure and is Ignored, and so is every other code:
// InvalidArgument, NotFound, PermissionDenied and the like are answers about
// the request, not the health of the server, so they neither trip the breaker
// nor close it (counting them as successes would let a broken model that
// rejects every request look healthy to a HALF_OPEN probe).
//
// It does not retry, wrap or convert errors, and holds no state. Its
// functions are safe for concurrent use. No API stability promise.
package breakergrpc
