package modelserver_test

import (
	"encoding/binary"
	"math"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/gen/inference"
)

// FuzzModelInfer feeds arbitrary values, shapes, ids and timestamps:
// ModelInfer must answer OK with one output element per value, or
// InvalidArgument, and never panic.
func FuzzModelInfer(f *testing.F) {
	f.Add([]byte{}, int64(0), "a", true)
	f.Add(binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.NaN())), int64(1), "a", false)
	f.Add(binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.Inf(-1))), int64(1), "", true)
	f.Add(make([]byte, 24), int64(3), "sat1/voltage", true)
	f.Add(make([]byte, 24), int64(-3), "x", false)
	f.Add(make([]byte, 16), int64(1<<40), "\xff", true)
	s := newServer(f)
	f.Fuzz(func(t *testing.T, raw []byte, dim int64, id string, perSample bool) {
		var vs []float64
		var ts []int64
		for i := 0; i+8 <= len(raw); i += 8 {
			u := binary.LittleEndian.Uint64(raw[i:])
			vs = append(vs, math.Float64frombits(u))
			ts = append(ts, int64(u>>1))
		}
		req := &inference.ModelInferRequest{ModelName: "astraguard-anomaly",
			Inputs: []*tensor{{Name: "value", Datatype: "FP64", Shape: []int64{dim}, Contents: &inference.InferTensorContents{Fp64Contents: vs}}}}
		if perSample {
			idt := make([]string, len(vs))
			for i := range idt {
				idt[i] = id
			}
			req.Inputs = append(req.Inputs, ids(idt...), int64s("timestamp", ts...))
		} else {
			req.Parameters = map[string]*inference.InferParameter{"sequence_id": strParam(id)}
		}
		resp, err := s.ModelInfer(t.Context(), req)
		if err != nil {
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("ModelInfer() = %v, want OK or InvalidArgument", err)
			}
			return
		}
		for _, o := range resp.GetOutputs() {
			if o.GetDatatype() == "BYTES" {
				if n := len(mechanisms(t, resp, o.GetName())); n != len(vs) {
					t.Fatalf("output %q has %d elements for %d values", o.GetName(), n, len(vs))
				}
				continue
			}
			scores, flags := output(t, resp, o.GetName())
			if n := len(scores) + len(flags); n != len(vs) {
				t.Fatalf("output %q has %d elements for %d values", o.GetName(), n, len(vs))
			}
		}
	})
}
