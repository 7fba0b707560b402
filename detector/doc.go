// Package detector scores telemetry samples for anomalies: the model first,
// through a circuit-breaker Gate, and the in-process heuristic whenever the
// model is unavailable, failing, slow or still learning a series.
//
// Every valid sample gets a score; every invalid sample (NaN, infinite, empty
// or overlong series id, a timestamp far in the future or out of order) gets
// a Verdict carrying a SampleError. Nothing is dropped.
//
// The package knows no transport and no breaker implementation: it declares
// the Model and Gate interfaces it needs and the caller wires concrete types
// in. It has no API stability promise.
//
// Concurrency: a Detector is safe for concurrent use. Per-series state is
// sharded and locked per shard; the model is called outside any lock.
package detector
