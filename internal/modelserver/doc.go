// Package modelserver serves AstraGuard's reference anomaly model (package
// model) over the Open Inference Protocol (KServe v2) gRPC API,
// inference.GRPCInferenceService, so the service's remote model client
// (detector/oip) and stock KServe/Triton clients can both call it.
//
// # Tensor layout
//
// The model is stateful: it learns each series online, keyed by series id,
// and scores every sample against what it has seen of that series before.
// A ModelInfer request carries n samples:
//
//	inputs   value      FP64  [n]  sample values, finite (required)
//	         timestamp  INT64 [n]  sample times, unix nanoseconds, in time
//	                               order within each series (optional:
//	                               default the server's receive time)
//	         series_id  BYTES [n]  series id of each sample (optional, see
//	                               below); a series' samples are contiguous
//	outputs  score      FP64       anomaly score in [0, 1]
//	         anomaly    BOOL       the model's own threshold decision
//	         warm       BOOL       false while the model is still learning
//	                               that series (score 0, anomaly false)
//	         mechanism  BYTES      what fired: none, shift, season, novelty,
//	                               stuck, record or limit
//	         expected   FP64       the value the model expected (0 while
//	   expected_lower   FP64       not warm) and the ordinary range around
//	   expected_upper   FP64       it, for drawing a band
//
// Outputs have the shape of the value input. Inputs may be sent in the
// typed contents or in raw_input_contents (little-endian; BYTES elements
// each prefixed by a 4-byte little-endian length, as Triton does). Outputs
// come in raw_output_contents by default, as Triton always answers over
// gRPC and as its clients read FP64 and BOOL outputs (FP64: 8 little-endian
// bytes per element; BOOL: one byte, 0 or 1); a request parameter
// "binary_data_output": false, or "binary_data": false on a requested
// output, asks for typed contents instead (for every output: one form per
// response). A request may list the outputs it wants, each at most once.
//
// Instead of a series_id input, a request may name one series for all its
// samples with Triton's sequence-batching request parameters:
// "sequence_id" (string or int64/uint64) names the series, "sequence_start"
// (bool) forgets the series' state before scoring, and "sequence_end"
// (bool) forgets it after. So a stock client can send just a "value" tensor
// and a sequence_id.
//
// A request with an id (at most MaxRequestIDBytes, 256) is idempotent: the answer to a request seen in the
// last 30s with the same id and the same content is remembered (at most
// 4096 answers and about 2^20 samples of them, oldest dropped first), and a
// resent copy gets it again without touching any series' state, so a
// client retrying a call whose answer was lost (gRPC's retry on
// UNAVAILABLE) never makes the model learn samples twice. A copy arriving
// while the first is still scored waits for its answer. Requests without
// an id are applied every time.
//
// Every response carries the string parameter "instance_id", random per
// Server, so clients can tell that the server restarted and lost its
// state (detector/oip logs and counts it).
//
// Invalid requests (unknown model or version: NotFound; unknown, duplicate
// or mistyped tensors, a shape of more than MaxDims (32) dimensions, an
// output requested twice, a request id over 256 bytes, shape and data length disagreeing, more than
// Config.MaxBatch samples, NaN or ±Inf values, out-of-order timestamps,
// missing series: InvalidArgument) are answered with a message saying what
// is wrong and never change any series' state. A message quotes at most 64
// bytes of a name the client sent (then "..."), since it goes into the
// status and the call's log line.
//
// What it deliberately does not do: it hosts exactly one model, does no
// batching across requests and keeps no state besides one store.Table of
// per-series model state, whose Config.MaxSeries bounds memory (least
// recently used series are evicted and start warming up again) and whose
// Config.SeriesTTL evicts idle series. It starts no goroutines; the caller
// owns the grpc.Server and calls Series().Sweep periodically.
//
// Concurrency: a Server is safe for concurrent use. Concurrent requests for
// one series are serialised by the series' entry lock in no defined order,
// so a client should keep one series' samples in one request stream
// (detector/oip never has one series in two calls at once).
//
// This package has no API stability promise.
package modelserver
