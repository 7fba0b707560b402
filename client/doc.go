// Package client is the Go client for AstraGuard's DetectorService when the
// service runs as several replicas. Per-series state lives in the replica
// that scores a series, so every request of one series must reach the same
// replica, and a series must move only when its replica goes away or the
// replica set changes.
//
// Method: the connection uses gRPC's own consistent hashing, the ring_hash
// load-balancing policy (gRFC A42), configured through the service config
// to hash the request header named by HashHeader (gRFC A76
// requestHashHeader; on by default in the grpc-go release this module
// requires, no xDS needed). The
// client opens one Detect stream per partition key, the series id by
// default (a frame's source for frames), and sends the key in that header,
// so the ring picks the replica of each stream. ServiceConfig is the exact
// JSON; clients in other languages set the same JSON and header (see
// docs/scale-out.md), and Envoy's ring hash on the same header does the
// same for clients that cannot.
//
// Contract: every request handed to Go stays pending until its response
// arrives. When a stream fails (Unavailable, Aborted, Internal, or ended
// with requests unanswered), the client re-opens it, which the ring puts on
// the replica it now picks for the key, and re-sends the pending requests
// in their original order. A response whose request id is not pending (a
// duplicate) is dropped and counted. Only after MaxAttempts failed re-opens
// in a row without any answer, a non-retryable error, or Close does a
// pending call complete with an error. When the resolver reports a changed
// replica set (SetAddrs, or a DNS answer that differs), every stream is
// closed gracefully once its pending requests are answered and re-opened,
// so the series the new ring maps elsewhere move, and only those.
//
// Bounds: at most Config.MaxPending requests are pending per partition;
// Go waits (honouring its context) for room. Idle streams close after
// Config.IdleTimeout, and their partition is forgotten. Memory is so
// bounded by partitions in use × MaxPending × request size.
//
// It deliberately does not split a request that holds several partition
// keys (Go refuses it with ErrMixedKeys; set WithPartitionKey to route such
// requests by another key), does not retry unary calls, and does not
// change any request except to set an empty request id.
//
// Concurrency: a Client is safe for concurrent use. Calls of one partition
// key are sent in the order Go was called for them; their responses arrive
// on Call.Done in that order. Close stops every goroutine the client
// started and waits for them.
//
// No API stability promise: the package is young and may change.
package client
