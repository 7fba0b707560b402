// Package embedded runs the reference anomaly model (package model)
// in-process behind the detector.Model interface. It is what the service uses
// when no model address is configured, so the detector, its breaker and its
// heuristic fallback behave the same whether the model is local or remote.
//
// What it deliberately does not do: it keeps no state of its own (per-series
// state lives in the model.Engine), retries nothing and starts no goroutines.
// It does not validate samples either; the detector does that before asking
// the model.
//
// Concurrency: a Model is safe for concurrent use; model.Engine serialises
// each series behind its own lock.
//
// This package has no API stability promise.
package embedded
