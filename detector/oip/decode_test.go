package oip

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/gen/inference"
)

func fp64Raw(vs ...float64) []byte {
	b := make([]byte, 0, 8*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func bytesRaw(ss ...string) []byte {
	var b []byte
	for _, s := range ss {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// TestDecodeExplanation reads the optional explanation outputs from Triton's
// raw serialisation, and leaves explanations empty for a server that does
// not send them.
func TestDecodeExplanation(t *testing.T) {
	out := func(name, dt string) *inference.ModelInferResponse_InferOutputTensor {
		return &inference.ModelInferResponse_InferOutputTensor{Name: name, Datatype: dt, Shape: []int64{2}}
	}
	base := []*inference.ModelInferResponse_InferOutputTensor{out("score", "FP64"), out("anomaly", "BOOL"), out("warm", "BOOL")}
	baseRaw := [][]byte{fp64Raw(0.1, 0.9), {0, 1}, {1, 1}}
	resp := &inference.ModelInferResponse{
		Outputs: append(append([]*inference.ModelInferResponse_InferOutputTensor(nil), base...),
			out("mechanism", "BYTES"), out("expected", "FP64"), out("expected_lower", "FP64"), out("expected_upper", "FP64")),
		RawOutputContents: append(append([][]byte(nil), baseRaw...),
			bytesRaw("none", "season"), fp64Raw(10, 11), fp64Raw(8, 9), fp64Raw(12, 13)),
	}
	got := make([]detector.Prediction, 2)
	if err := decode(resp, got); err != nil {
		t.Fatalf("decode() = %v", err)
	}
	want := detector.Explanation{Mechanism: detector.MechanismSeason, HasBand: true, Expected: 11, Lower: 9, Upper: 13}
	if got[1].Explain != want || got[0].Explain.Mechanism != detector.MechanismNone || !got[1].Anomaly {
		t.Errorf("decode() = %+v, want second %+v", got, want)
	}

	old := &inference.ModelInferResponse{Outputs: base, RawOutputContents: baseRaw}
	got = make([]detector.Prediction, 2)
	if err := decode(old, got); err != nil {
		t.Fatalf("decode(no explanation outputs) = %v", err)
	}
	if got[1].Explain != (detector.Explanation{}) {
		t.Errorf("decode(no explanation outputs) explanation = %+v, want empty", got[1].Explain)
	}

	bad := &inference.ModelInferResponse{Outputs: resp.Outputs, RawOutputContents: append(append([][]byte(nil), baseRaw...),
		bytesRaw("none"), fp64Raw(10, 11), fp64Raw(8, 9), fp64Raw(12, 13))}
	if err := decode(bad, make([]detector.Prediction, 2)); err == nil {
		t.Error("decode(one mechanism for two samples) = nil, want an error")
	}
}
