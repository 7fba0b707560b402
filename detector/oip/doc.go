// Package oip is the remote model client: it implements detector.Model over
// the Open Inference Protocol (KServe v2) gRPC API,
// inference.GRPCInferenceService, so any compliant server (AstraGuard's own
// modelserver, Triton, KServe, MLServer, OpenVINO Model Server) can host the
// anomaly model.
//
// # Tensor layout
//
// One Predict call sends all of its samples, across all series, in ONE
// ModelInfer request of n samples (the i-th element of every tensor is the
// i-th sample; samples of one series are contiguous and in time order):
//
//	inputs   series_id  BYTES [n]  series id of each sample (UTF-8)
//	         timestamp  INT64 [n]  sample time, unix nanoseconds
//	         value      FP64  [n]  sample value, finite
//	outputs  score      FP64  [n]  anomaly score in [0, 1]
//	         anomaly    BOOL  [n]  the model's own threshold decision
//	         warm       BOOL  [n]  false while the model is still learning
//	                               that series
//	optional mechanism  BYTES [n]  what fired: none, shift, season, novelty,
//	                               stuck, record, limit (another name reads
//	                               as "other")
//	         expected   FP64  [n]  the value the model expected, and the
//	   expected_lower   FP64  [n]  ordinary range around it; used only when
//	   expected_upper   FP64  [n]  all three come, finite and ordered
//
// Requests use the typed InferTensorContents fields, never
// raw_input_contents. Responses may use either the typed contents or
// raw_output_contents (little-endian FP64, one byte per BOOL), as Triton
// does. A response with a missing output, a wrong datatype or a wrong
// element count is rejected with an error wrapping ErrBadResponse, which
// the breaker counts as a model failure.
//
// # State and restarts
//
// The model is stateful: per-series state lives in the model server, keyed
// by series id. A restarted model server starts empty, so it answers
// warm=false for every series until it has learnt them again, and the
// detector answers from its heuristic with reason "warming up" meanwhile.
// AstraGuard's modelserver puts a random per-process "instance_id" string
// parameter in every ModelInferResponse; the Client logs when it changes and
// counts the change (Restarts, WithRestartCounter), so restarts are visible.
//
// # Errors, retries, readiness
//
// Errors keep their gRPC status, so status.Code(err) still works on them
// (grpc-go unwraps wrapped errors), and an error caused by the caller's
// context also matches context.Canceled or context.DeadlineExceeded with
// errors.Is, as does a DeadlineExceeded status (the deadline travels with
// the call, so the server may see it expire first). Breakers classify by
// both. Malformed responses wrap ErrBadResponse, which wraps
// detector.ErrInvalidOutput.
//
// The Client does not retry by itself: NewConn installs ServiceConfig, with
// which gRPC resends an UNAVAILABLE ModelInfer (3 attempts in all, inside
// the call's deadline) unless its retry throttle says the server is failing
// too often. UNAVAILABLE can follow a call the server applied, so every
// call carries a ModelInferRequest id of its own and astraguard-model
// answers a resent id from memory instead of learning its samples twice.
//
// CheckReady asks ServerReady, ModelReady and ModelMetadata and verifies the
// model's declared inputs and outputs match the layout above. The caller
// runs it at start-up and again when the breaker goes half-open, so a model
// replaced by an incompatible one is caught before traffic returns to it.
//
// What it deliberately does not do: it opens no connections of its own
// (the caller passes a grpc.ClientConnInterface, e.g. from Dial), starts no
// goroutines and keeps no per-series state.
//
// Concurrency: a Client is safe for concurrent use.
//
// This package has no API stability promise.
package oip
