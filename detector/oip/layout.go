package oip

// Tensor names and datatypes of the wire layout (see the package comment).
// modelserver declares the same names; the tests run the two together.
const (
	InputSeriesID  = "series_id"
	InputTimestamp = "timestamp"
	InputValue     = "value"
	OutputScore    = "score"
	OutputAnomaly  = "anomaly"
	OutputWarm     = "warm"

	// Optional explanation outputs: used when the server sends them.
	OutputMechanism     = "mechanism"
	OutputExpected      = "expected"
	OutputExpectedLower = "expected_lower"
	OutputExpectedUpper = "expected_upper"

	// ParamInstanceID is the ModelInferResponse string parameter holding
	// the model server's per-process instance id.
	ParamInstanceID = "instance_id"
)

const (
	typeBytes = "BYTES"
	typeInt64 = "INT64"
	typeFP64  = "FP64"
	typeBool  = "BOOL"
)

type tensorSpec struct{ name, datatype string }

var (
	inputSpecs  = []tensorSpec{{InputSeriesID, typeBytes}, {InputTimestamp, typeInt64}, {InputValue, typeFP64}}
	outputSpecs = []tensorSpec{{OutputScore, typeFP64}, {OutputAnomaly, typeBool}, {OutputWarm, typeBool}}
	// optionalSpecs follow outputSpecs in decode's numbering.
	optionalSpecs = []tensorSpec{{OutputMechanism, typeBytes}, {OutputExpected, typeFP64}, {OutputExpectedLower, typeFP64}, {OutputExpectedUpper, typeFP64}}
	allSpecs      = append(append([]tensorSpec(nil), outputSpecs...), optionalSpecs...)
)

// Output numbers in allSpecs.
const (
	outScore = iota
	outAnomaly
	outWarm
	outMechanism
	outExpected
	outLower
	outUpper
	numOutputs
)
