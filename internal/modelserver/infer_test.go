package modelserver_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/modelserver"
)

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v", b, err)
	}
	return cmp.Equal(x, y)
}

type tensor = inference.ModelInferRequest_InferInputTensor

func fp64(name string, v ...float64) *tensor {
	return &tensor{Name: name, Datatype: "FP64", Shape: []int64{int64(len(v))}, Contents: &inference.InferTensorContents{Fp64Contents: v}}
}

func int64s(name string, v ...int64) *tensor {
	return &tensor{Name: name, Datatype: "INT64", Shape: []int64{int64(len(v))}, Contents: &inference.InferTensorContents{Int64Contents: v}}
}

func ids(v ...string) *tensor {
	b := make([][]byte, len(v))
	for i, s := range v {
		b[i] = []byte(s)
	}
	return &tensor{Name: "series_id", Datatype: "BYTES", Shape: []int64{int64(len(v))}, Contents: &inference.InferTensorContents{BytesContents: b}}
}

func strParam(s string) *inference.InferParameter {
	return &inference.InferParameter{ParameterChoice: &inference.InferParameter_StringParam{StringParam: s}}
}

func boolParam(b bool) *inference.InferParameter {
	return &inference.InferParameter{ParameterChoice: &inference.InferParameter_BoolParam{BoolParam: b}}
}

func seqReq(seq string, values ...float64) *inference.ModelInferRequest {
	return &inference.ModelInferRequest{
		ModelName:  "astraguard-anomaly",
		Inputs:     []*tensor{fp64("value", values...)},
		Parameters: map[string]*inference.InferParameter{"sequence_id": strParam(seq)},
	}
}

func ramp(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 10 + math.Sin(float64(i)/3)
	}
	return v
}

func warm(t *testing.T, resp *inference.ModelInferResponse) []bool {
	t.Helper()
	_, flags := output(t, resp, "warm")
	return flags
}

// output decodes the named output from either form: raw_output_contents
// (the default) or typed contents.
func output(t *testing.T, resp *inference.ModelInferResponse, name string) (scores []float64, flags []bool) {
	t.Helper()
	raw := resp.GetRawOutputContents()
	for i, o := range resp.GetOutputs() {
		if o.GetName() != name {
			continue
		}
		if len(raw) == 0 {
			return o.GetContents().GetFp64Contents(), o.GetContents().GetBoolContents()
		}
		if o.GetDatatype() == "FP64" {
			for b := raw[i]; len(b) >= 8; b = b[8:] {
				scores = append(scores, math.Float64frombits(binary.LittleEndian.Uint64(b)))
			}
			return scores, nil
		}
		for _, c := range raw[i] {
			flags = append(flags, c != 0)
		}
		return nil, flags
	}
	t.Fatalf("response has no %s output: %v", name, resp)
	return nil, nil
}

// mechanisms returns the BYTES output name's elements, typed or raw.
func mechanisms(t *testing.T, resp *inference.ModelInferResponse, name string) []string {
	t.Helper()
	raw := resp.GetRawOutputContents()
	for i, o := range resp.GetOutputs() {
		if o.GetName() != name {
			continue
		}
		var out []string
		if len(raw) == 0 {
			for _, b := range o.GetContents().GetBytesContents() {
				out = append(out, string(b))
			}
			return out
		}
		for b := raw[i]; len(b) >= 4; {
			l := binary.LittleEndian.Uint32(b)
			if int(l) > len(b)-4 {
				t.Fatalf("output %s: malformed raw BYTES", name)
			}
			out = append(out, string(b[4:4+l]))
			b = b[4+l:]
		}
		return out
	}
	t.Fatalf("response has no %s output: %v", name, resp)
	return nil
}

func TestModelInferValidation(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	withParams := func(r *inference.ModelInferRequest, kv ...any) *inference.ModelInferRequest {
		for i := 0; i < len(kv); i += 2 {
			r.Parameters[kv[i].(string)] = kv[i+1].(*inference.InferParameter)
		}
		return r
	}
	perSample := func(in ...*tensor) *inference.ModelInferRequest {
		return &inference.ModelInferRequest{ModelName: "astraguard-anomaly", Inputs: in, Parameters: map[string]*inference.InferParameter{}}
	}
	big := make([]float64, 1001)
	tests := []struct {
		name string
		req  *inference.ModelInferRequest
		code codes.Code
		msg  string
	}{
		{"unknown model", &inference.ModelInferRequest{ModelName: "x"}, codes.NotFound, `model "x" not found`},
		{"unknown version", &inference.ModelInferRequest{ModelName: "astraguard-anomaly", ModelVersion: "9"}, codes.NotFound, "version"},
		{"no model name", &inference.ModelInferRequest{}, codes.InvalidArgument, "model name"},
		{"no value", perSample(ids("a")), codes.InvalidArgument, `input "value" is required`},
		{"NaN", seqReq("a", 1, nan), codes.InvalidArgument, "element 1 is NaN"},
		{"Inf", seqReq("a", inf), codes.InvalidArgument, "element 0 is +Inf"},
		{"empty", seqReq("a"), codes.InvalidArgument, "no elements"},
		{"too many", seqReq("a", big...), codes.InvalidArgument, "more than 1000 elements"},
		{"shape vs data", perSample(&tensor{Name: "value", Datatype: "FP64", Shape: []int64{2}, Contents: &inference.InferTensorContents{Fp64Contents: []float64{1}}}, ids("a", "a")),
			codes.InvalidArgument, "(2 elements) but 1 elements"},
		{"negative dim", perSample(&tensor{Name: "value", Datatype: "FP64", Shape: []int64{-1}}, ids("a")), codes.InvalidArgument, "negative dimension"},
		// 7 × 7905747460161236407 is 1 modulo 2^64: a product that wraps
		// must not pass for one element.
		{"shape product wraps to 1", perSample(&tensor{Name: "value", Datatype: "FP64", Shape: []int64{7, 7905747460161236407},
			Contents: &inference.InferTensorContents{Fp64Contents: []float64{1}}}, ids("a")), codes.InvalidArgument, "more than 1000 elements"},
		{"no shape", perSample(&tensor{Name: "value", Datatype: "FP64"}), codes.InvalidArgument, "no shape"},
		{"wrong datatype", perSample(&tensor{Name: "value", Datatype: "FP32", Shape: []int64{1}}), codes.InvalidArgument, `datatype "FP32", want "FP64"`},
		{"unknown input", perSample(fp64("value", 1), fp64("pressure", 1)), codes.InvalidArgument, `unknown input "pressure"`},
		{"duplicate input", perSample(fp64("value", 1), fp64("value", 1)), codes.InvalidArgument, "appears twice"},
		{"no series", perSample(fp64("value", 1)), codes.InvalidArgument, "no series"},
		{"both series", withParams(perSample(fp64("value", 1), ids("a")), "sequence_id", strParam("a")), codes.InvalidArgument, "not both"},
		{"ids length", perSample(fp64("value", 1, 2), ids("a")), codes.InvalidArgument, `"series_id" has 1 elements`},
		{"timestamp length", perSample(fp64("value", 1, 2), ids("a", "a"), int64s("timestamp", 1)), codes.InvalidArgument, `"timestamp" has 1 elements`},
		{"empty id", perSample(fp64("value", 1), ids("")), codes.InvalidArgument, "non-empty UTF-8"},
		{"out of order", perSample(fp64("value", 1, 2), ids("a", "a"), int64s("timestamp", 2, 1)), codes.InvalidArgument, "earlier than"},
		{"out of order across runs", perSample(fp64("value", 1, 2, 3), ids("a", "b", "a"), int64s("timestamp", 5, 9, 4)), codes.InvalidArgument, "element 2 is earlier than element 0"},
		{"bool sequence_id", withParams(perSample(fp64("value", 1)), "sequence_id", boolParam(true)), codes.InvalidArgument, "string or an integer"},
		{"string sequence_start", withParams(seqReq("a", 1), "sequence_start", strParam("yes")), codes.InvalidArgument, "must be a bool"},
		{"sequence_end without id", withParams(perSample(fp64("value", 1), ids("a")), "sequence_end", boolParam(true)), codes.InvalidArgument, "need"},
		{"unknown output", func() *inference.ModelInferRequest {
			r := seqReq("a", 1)
			r.Outputs = []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "logits"}}
			return r
		}(), codes.InvalidArgument, `unknown output "logits"`},
		{"repeated output", func() *inference.ModelInferRequest {
			r := seqReq("a", 1)
			r.Outputs = []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "score"}, {Name: "warm"}, {Name: "score"}}
			return r
		}(), codes.InvalidArgument, `output "score" requested twice`},
		{"raw count", func() *inference.ModelInferRequest {
			r := seqReq("a", 1)
			r.RawInputContents = [][]byte{{1}, {2}}
			return r
		}(), codes.InvalidArgument, "raw_input_contents"},
		{"raw ragged", func() *inference.ModelInferRequest {
			r := seqReq("a", 1)
			r.RawInputContents = [][]byte{{1, 2, 3}}
			return r
		}(), codes.InvalidArgument, "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			if tt.req.Parameters == nil {
				tt.req.Parameters = map[string]*inference.InferParameter{}
			}
			_, err := s.ModelInfer(t.Context(), tt.req)
			if status.Code(err) != tt.code || !strings.Contains(status.Convert(err).Message(), tt.msg) {
				t.Errorf("ModelInfer() = %v, want %v containing %q", err, tt.code, tt.msg)
			}
		})
	}
}

// TestSequenceParameters: Triton's sequence_start forgets the series first,
// sequence_end forgets it afterwards; an int64 sequence_id names the same
// series as its decimal string.
func TestSequenceParameters(t *testing.T) {
	s := newServer(t)
	ctx := t.Context()
	resp, err := s.ModelInfer(ctx, seqReq("17", ramp(30)...))
	if err != nil {
		t.Fatalf("ModelInfer() = %v", err)
	}
	if w := warm(t, resp); w[0] || !w[29] {
		t.Fatalf("warm = %v, want cold then warm after 20 samples", w)
	}
	r := seqReq("", 1)
	r.Parameters["sequence_id"] = &inference.InferParameter{ParameterChoice: &inference.InferParameter_Int64Param{Int64Param: 17}}
	if resp, err = s.ModelInfer(ctx, r); err != nil || !warm(t, resp)[0] {
		t.Fatalf("ModelInfer(int64 sequence_id 17) = %v, %v; want the warm series \"17\"", resp, err)
	}
	r = seqReq("17", 1)
	r.Parameters["sequence_start"] = boolParam(true)
	if resp, err = s.ModelInfer(ctx, r); err != nil || warm(t, resp)[0] {
		t.Fatalf("ModelInfer(sequence_start) = %v, %v; want a cold series", resp, err)
	}
	r = seqReq("17", ramp(30)...)
	r.Parameters["sequence_end"] = boolParam(true)
	if resp, err = s.ModelInfer(ctx, r); err != nil || !warm(t, resp)[29] {
		t.Fatalf("ModelInfer(sequence_end) = %v, %v; want warm by its end", resp, err)
	}
	if resp, err = s.ModelInfer(ctx, seqReq("17", 1)); err != nil || warm(t, resp)[0] {
		t.Fatalf("ModelInfer(after sequence_end) = %v, %v; want a cold series", resp, err)
	}
}

// TestRawInputs: Triton clients send raw_input_contents; they score the
// same as typed contents.
func TestRawInputs(t *testing.T) {
	ts := []int64{1e18, 1e18 + 60e9, 1e18 + 120e9}
	vs := []float64{1.5, 2.5, -3}
	typed := &inference.ModelInferRequest{ModelName: "astraguard-anomaly",
		Inputs: []*tensor{ids("a", "a", "b"), int64s("timestamp", ts...), fp64("value", vs...)}}
	var rawIDs, rawTS, rawVS []byte
	for i := range vs {
		id := []byte{"aab"[i]}
		rawIDs = binary.LittleEndian.AppendUint32(rawIDs, uint32(len(id)))
		rawIDs = append(rawIDs, id...)
		rawTS = binary.LittleEndian.AppendUint64(rawTS, uint64(ts[i]))
		rawVS = binary.LittleEndian.AppendUint64(rawVS, math.Float64bits(vs[i]))
	}
	raw := &inference.ModelInferRequest{ModelName: "astraguard-anomaly",
		Inputs: []*tensor{
			{Name: "series_id", Datatype: "BYTES", Shape: []int64{3}},
			{Name: "timestamp", Datatype: "INT64", Shape: []int64{3}},
			{Name: "value", Datatype: "FP64", Shape: []int64{3}},
		},
		RawInputContents: [][]byte{rawIDs, rawTS, rawVS}}
	want, err := newServer(t, modelserver.WithInstanceID("x")).ModelInfer(t.Context(), typed)
	if err != nil {
		t.Fatalf("ModelInfer(typed) = %v", err)
	}
	got, err := newServer(t, modelserver.WithInstanceID("x")).ModelInfer(t.Context(), raw)
	if err != nil {
		t.Fatalf("ModelInfer(raw) = %v", err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("ModelInfer(raw) mismatch (-typed +raw):\n%s", diff)
	}
}

// TestOutputsAndEcho: requested outputs only, in order, in the value
// input's shape; id echoed; receive time stamps samples without timestamps.
func TestOutputsAndEcho(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := newServer(t, modelserver.WithInstanceID("i"), modelserver.WithNow(func() time.Time { return now }))
	r := seqReq("a", 1, 2)
	r.Id = "abc"
	r.Inputs[0].Shape = []int64{1, 2}
	r.Outputs = []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "warm"}, {Name: "score",
		Parameters: map[string]*inference.InferParameter{"binary_data": boolParam(false)}}}
	got, err := s.ModelInfer(t.Context(), r)
	if err != nil {
		t.Fatalf("ModelInfer() = %v", err)
	}
	want := &inference.ModelInferResponse{
		ModelName: "astraguard-anomaly", ModelVersion: "1", Id: "abc",
		Parameters: map[string]*inference.InferParameter{"instance_id": strParam("i")},
		Outputs: []*inference.ModelInferResponse_InferOutputTensor{
			{Name: "warm", Datatype: "BOOL", Shape: []int64{1, 2}, Contents: &inference.InferTensorContents{BoolContents: []bool{false, false}}},
			{Name: "score", Datatype: "FP64", Shape: []int64{1, 2}, Contents: &inference.InferTensorContents{Fp64Contents: []float64{0, 0}}},
		},
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("ModelInfer() mismatch (-want +got):\n%s", diff)
	}
}

// TestReproducible: two fresh servers give identical answers to the same
// stream.
func TestReproducible(t *testing.T) {
	run := func() []*inference.ModelInferResponse {
		s := newServer(t, modelserver.WithInstanceID("same"))
		var out []*inference.ModelInferResponse
		for k := range 5 {
			ts := make([]int64, 20)
			for i := range ts {
				ts[i] = int64(k*20+i) * int64(time.Minute)
			}
			v := ramp(100)[k*20 : k*20+20]
			r := &inference.ModelInferRequest{ModelName: "astraguard-anomaly",
				Inputs: []*tensor{fp64("value", v...), int64s("timestamp", ts...)}, Parameters: map[string]*inference.InferParameter{"sequence_id": strParam("s")}}
			resp, err := s.ModelInfer(t.Context(), r)
			if err != nil {
				t.Fatalf("ModelInfer() = %v", err)
			}
			out = append(out, resp)
		}
		return out
	}
	if diff := cmp.Diff(run(), run(), protocmp.Transform()); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
}

func TestMetadataAndReadiness(t *testing.T) {
	s := newServer(t)
	ctx := t.Context()
	if r, err := s.ServerLive(ctx, &inference.ServerLiveRequest{}); err != nil || !r.GetLive() {
		t.Errorf("ServerLive() = %v, %v; want live", r, err)
	}
	if r, err := s.ModelReady(ctx, &inference.ModelReadyRequest{Name: "astraguard-anomaly"}); err != nil || !r.GetReady() {
		t.Errorf("ModelReady() = %v, %v; want ready", r, err)
	}
	if _, err := s.ModelReady(ctx, &inference.ModelReadyRequest{Name: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("ModelReady(nope) = %v, want NotFound", err)
	}
	s.SetReady(false)
	if r, err := s.ServerReady(ctx, &inference.ServerReadyRequest{}); err != nil || r.GetReady() {
		t.Errorf("ServerReady() after SetReady(false) = %v, %v; want not ready", r, err)
	}
	md, err := s.ModelMetadata(ctx, &inference.ModelMetadataRequest{Name: "astraguard-anomaly", Version: "1"})
	if err != nil {
		t.Fatalf("ModelMetadata() = %v", err)
	}
	tm := func(name, dt string) *inference.ModelMetadataResponse_TensorMetadata {
		return &inference.ModelMetadataResponse_TensorMetadata{Name: name, Datatype: dt, Shape: []int64{-1}}
	}
	want := &inference.ModelMetadataResponse{
		Name: "astraguard-anomaly", Versions: []string{"1"}, Platform: "astraguard_go",
		Inputs: []*inference.ModelMetadataResponse_TensorMetadata{tm("series_id", "BYTES"), tm("timestamp", "INT64"), tm("value", "FP64")},
		Outputs: []*inference.ModelMetadataResponse_TensorMetadata{tm("score", "FP64"), tm("anomaly", "BOOL"), tm("warm", "BOOL"),
			tm("mechanism", "BYTES"), tm("expected", "FP64"), tm("expected_lower", "FP64"), tm("expected_upper", "FP64")},
	}
	if diff := cmp.Diff(want, md, protocmp.Transform()); diff != "" {
		t.Errorf("ModelMetadata() mismatch (-want +got):\n%s", diff)
	}
	sm, err := s.ServerMetadata(ctx, &inference.ServerMetadataRequest{})
	if err != nil || sm.GetName() != "astraguard-model" {
		t.Errorf("ServerMetadata() = %v, %v; want name astraguard-model", sm, err)
	}
}
