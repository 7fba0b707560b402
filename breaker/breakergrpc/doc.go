// Package breakergrpc classifies gRPC call errors for package breaker, so
// that breaker itself never imports gRPC.
//
// Every error is a failure of the dependency except one the caller caused
// by cancelling or hanging up (context.Canceled in the chain, or any error
// once the caller's context ended, with ClassifyCall), which is Ignored.
// That includes InvalidArgument, NotFound, Unimplemented,
// FailedPrecondition, Unauthenticated and PermissionDenied: the breaker
// guards a dependency the service calls with requests of its own making, so
// a model server that rejects them (wrong model name, lost credentials, an
// incompatible version) is as unusable as one that is down, and the breaker
// should stop paying a round trip per batch for it.
//
// It does not retry, wrap or convert errors, and holds no state. Its
// functions are safe for concurrent use. No API stability promise.
package breakergrpc
