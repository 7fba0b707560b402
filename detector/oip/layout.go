package oip

import "github.com/astraguard/astraguard/internal/oipwire"

const (
	typeBytes = "BYTES"
	typeInt64 = "INT64"
	typeFP64  = "FP64"
	typeBool  = "BOOL"
)

type tensorSpec struct{ name, datatype string }

var (
	inputSpecs  = []tensorSpec{{oipwire.InputSeriesID, typeBytes}, {oipwire.InputTimestamp, typeInt64}, {oipwire.InputValue, typeFP64}}
	outputSpecs = []tensorSpec{{oipwire.OutputScore, typeFP64}, {oipwire.OutputAnomaly, typeBool}, {oipwire.OutputWarm, typeBool}}
	// optionalSpecs follow outputSpecs in decode's numbering.
	optionalSpecs = []tensorSpec{{oipwire.OutputMechanism, typeBytes}, {oipwire.OutputExpected, typeFP64}, {oipwire.OutputExpectedLower, typeFP64}, {oipwire.OutputExpectedUpper, typeFP64}}
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
