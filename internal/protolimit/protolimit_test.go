package protolimit

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/astraguard/astraguard/gen/inference"
)

// maxDecoded is the bound both binaries give Codec: four times their
// 16 MiB message limit.
const maxDecoded = 64 << 20

// fillWire repeats elem up to n bytes.
func fillWire(elem []byte, n int) []byte {
	b := make([]byte, 0, n+len(elem))
	for len(b) < n {
		b = append(b, elem...)
	}
	return b
}

// TestCodecRefusesDecodeBombs: a request of 15 MiB whose elements are
// nearly empty (empty tensors, empty ids, parameters, a shape of 1s) took
// 0.5-1.2 GB to decode before any handler could refuse it. The codec
// estimates the decoded size from the wire and refuses it, allocating
// little beyond the request itself.
func TestCodecRefusesDecodeBombs(t *testing.T) {
	const size = 15 << 20
	field := func(num protowire.Number, inner []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), inner)
	}
	var params []byte
	for i := 0; len(params) < size; i++ {
		params = append(params, field(4, field(1, fmt.Appendf(nil, "%x", i)))...)
	}
	c := Codec(maxDecoded)
	for name, wire := range map[string][]byte{
		"empty input tensors": fillWire([]byte{0x2a, 0x00}, size),
		"empty outputs":       fillWire([]byte{0x32, 0x00}, size),
		"empty raw inputs":    fillWire([]byte{0x3a, 0x00}, size),
		"empty ids":           field(5, field(5, fillWire([]byte{0x42, 0x00}, size))),
		"parameters":          params,
		"shape of 1s":         field(5, field(3, fillWire([]byte{1}, size))),
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var req inference.ModelInferRequest
			err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, &req)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("decodes to more than %d bytes", maxDecoded)) {
				t.Errorf("Unmarshal() = %v, want refused naming the bound", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 2*size {
				t.Errorf("Unmarshal() allocated %d MB, want at most %d MB", got>>20, 2*size>>20)
			}
		})
	}
}

// TestCodecDecodesLargestBatch: the largest batch astraguard-model takes (100,000
// samples with series ids and timestamps) decodes as gRPC's own codec
// decodes it, well within the bound.
func TestCodecDecodesLargestBatch(t *testing.T) {
	const n = 100_000
	ids, stamps, values := make([][]byte, n), make([]int64, n), make([]float64, n)
	for i := range n {
		ids[i] = fmt.Appendf(nil, "sat%d/bus-a/voltage-%d", i%50, i)
		stamps[i], values[i] = 1_764_158_400_000_000_000+int64(i)*1e9, float64(i)/7
	}
	want := &inference.ModelInferRequest{ModelName: "astraguard-anomaly", Id: "ag-0123456789abcdef-1",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{
			{Name: "series_id", Datatype: "BYTES", Shape: []int64{n}, Contents: &inference.InferTensorContents{BytesContents: ids}},
			{Name: "timestamp", Datatype: "INT64", Shape: []int64{n}, Contents: &inference.InferTensorContents{Int64Contents: stamps}},
			{Name: "value", Datatype: "FP64", Shape: []int64{n}, Contents: &inference.InferTensorContents{Fp64Contents: values}},
		}}
	wire, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if est := decodedBytes(wire, want.ProtoReflect().Descriptor(), maxDecoded, 0); est > maxDecoded/4 {
		t.Errorf("decodedBytes() = %d for a %d-byte batch, want well within %d", est, len(wire), maxDecoded)
	}
	got := &inference.ModelInferRequest{}
	if err := Codec(maxDecoded).Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, got); err != nil {
		t.Fatalf("Unmarshal() = %v", err)
	}
	if !proto.Equal(want, got) {
		t.Error("Unmarshal() decoded another request than the one encoded")
	}
}

// TestCheckDeepNesting: a recursive message type nested far deeper than
// protobuf-go decodes (a Value holding a list holding a Value ..., about
// six bytes a level) is walked no deeper than that, leaving the refusal to
// proto.Unmarshal with its own reason, rather than hundreds of thousands
// of levels deep until the estimate passes the bound.
func TestCheckDeepNesting(t *testing.T) {
	const levels = 1_000_000
	// value[i] = Value{list_value (6): ListValue{values (1): value[i+1]}},
	// its length computed from the innermost (an empty Value) outwards.
	valueLen := make([]int, levels+1)
	listLen := make([]int, levels)
	for i := levels - 1; i >= 0; i-- {
		listLen[i] = protowire.SizeTag(1) + protowire.SizeBytes(valueLen[i+1])
		valueLen[i] = protowire.SizeTag(6) + protowire.SizeBytes(listLen[i])
	}
	wire := make([]byte, 0, valueLen[0])
	for i := range levels {
		wire = protowire.AppendTag(wire, 6, protowire.BytesType)
		wire = protowire.AppendVarint(wire, uint64(listLen[i]))
		wire = protowire.AppendTag(wire, 1, protowire.BytesType)
		wire = protowire.AppendVarint(wire, uint64(valueLen[i+1]))
	}
	v := &structpb.Value{}
	if err := Check(wire, v, maxDecoded); err != nil {
		t.Errorf("Check() = %v, want the depth left to proto.Unmarshal", err)
	}
	if err := proto.Unmarshal(wire, v); err == nil || !strings.Contains(err.Error(), "recursion") {
		t.Errorf("proto.Unmarshal() = %v; this test needs a refused depth", err)
	}
}
