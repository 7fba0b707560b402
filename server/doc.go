// Package server implements AstraGuard's gRPC API: DetectorService over a
// Scorer, BreakerAdmin over a breaker.Registry, the standard health service
// and reflection, with go-grpc-middleware interceptors for panic recovery,
// logging and per-RPC Prometheus metrics.
//
// Errors are mapped to gRPC status codes in one place, errors.go. Per-sample
// problems never become RPC errors: they travel in the verdicts.
//
// Server imports breaker (unlike detector) because BreakerAdmin is a view of
// breakers; it does not import cmd. No API stability promise.
//
// Concurrency: a Server and its services are safe for concurrent use. Each
// Detect stream is served by three goroutines (stream.go): a reader feeding
// a bounded queue, an answerer, and the handler watching for a stalled
// send; the DetectorService owns the first two and Shutdown waits for them.
package server
