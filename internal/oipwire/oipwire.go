// Package oipwire names the tensors and parameters of AstraGuard's Open
// Inference Protocol layout, the one contract between the model client
// (detector/oip) and the model server (modelserver): both take the names
// from here, so they cannot drift apart. The layout itself (shapes,
// datatypes, what each tensor means) is documented in detector/oip.
package oipwire

// DefaultModelName is the model the server serves and the client asks for
// when neither is told another.
const DefaultModelName = "astraguard-anomaly"

// Input tensors of a ModelInferRequest, one element per sample.
const (
	InputSeriesID  = "series_id" // BYTES: the sample's series id (UTF-8)
	InputTimestamp = "timestamp" // INT64: sample time, unix nanoseconds
	InputValue     = "value"     // FP64: sample value, finite
)

// Output tensors of a ModelInferResponse, one element per sample.
const (
	OutputScore   = "score"   // FP64: anomaly score in [0, 1]
	OutputAnomaly = "anomaly" // BOOL: the model's own threshold decision
	OutputWarm    = "warm"    // BOOL: false while the model learns the series

	// Optional explanation outputs (a client may ignore them): the
	// mechanism that fired and the expected value with its band.
	OutputMechanism     = "mechanism"
	OutputExpected      = "expected"
	OutputExpectedLower = "expected_lower"
	OutputExpectedUpper = "expected_upper"
)

// ParamInstanceID is the ModelInferResponse string parameter holding the
// model server's per-process instance id.
const ParamInstanceID = "instance_id"
