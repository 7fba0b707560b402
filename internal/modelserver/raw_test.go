package modelserver_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/modelserver"
)

// TestOutputsRawByDefault: as Triton does over gRPC, outputs come in
// raw_output_contents (Triton's Python client reads FP64 and BOOL outputs
// only from there), with no typed contents; "binary_data_output": false
// (request) or "binary_data": false (any requested output) gets typed
// contents for every output instead. Both forms carry the same values.
// Each request goes to a fresh server over bufconn.
func TestOutputsRawByDefault(t *testing.T) {
	values := ramp(300)
	values[250] += 40 // a spike, so some anomaly flag is set
	ask := func(edit func(*inference.ModelInferRequest)) *inference.ModelInferResponse {
		t.Helper()
		client := inference.NewGRPCInferenceServiceClient(serve(t, newServer(t, modelserver.WithInstanceID("i"))))
		req := seqReq("a", values...)
		edit(req)
		resp, err := client.ModelInfer(t.Context(), req)
		if err != nil {
			t.Fatalf("ModelInfer() = %v", err)
		}
		return resp
	}
	raw := ask(func(*inference.ModelInferRequest) {})
	if len(raw.GetRawOutputContents()) != 7 {
		t.Fatalf("default response has %d raw_output_contents, want 7 (3 verdict, 4 explanation)", len(raw.GetRawOutputContents()))
	}
	for i, o := range raw.GetOutputs() {
		if o.GetContents() != nil {
			t.Errorf("output %q has typed contents too, want raw only", o.GetName())
		}
		if o.GetDatatype() == "BYTES" {
			if got := len(mechanisms(t, raw, o.GetName())); got != len(values) {
				t.Errorf("output %q: %d raw elements, want %d", o.GetName(), got, len(values))
			}
			continue
		}
		size := 1
		if o.GetDatatype() == "FP64" {
			size = 8
		}
		if got := len(raw.GetRawOutputContents()[i]); got != size*len(values) {
			t.Errorf("output %q: %d raw bytes, want %d", o.GetName(), got, size*len(values))
		}
	}
	typedReq := ask(func(r *inference.ModelInferRequest) { r.Parameters["binary_data_output"] = boolParam(false) })
	typedOut := ask(func(r *inference.ModelInferRequest) {
		r.Outputs = []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: "score"}, {Name: "anomaly"},
			{Name: "warm", Parameters: map[string]*inference.InferParameter{"binary_data": boolParam(false)}}}
	})
	explicitRaw := ask(func(r *inference.ModelInferRequest) { r.Parameters["binary_data_output"] = boolParam(true) })
	for name, typed := range map[string]*inference.ModelInferResponse{"binary_data_output false": typedReq, "binary_data false": typedOut} {
		if len(typed.GetRawOutputContents()) != 0 {
			t.Errorf("%s: response has raw_output_contents, want typed only", name)
		}
	}
	if len(explicitRaw.GetRawOutputContents()) != 7 {
		t.Errorf("binary_data_output true: %d raw contents, want 7", len(explicitRaw.GetRawOutputContents()))
	}
	flagged := false
	for _, name := range []string{"score", "anomaly", "warm"} {
		rs, rf := output(t, raw, name)
		for what, resp := range map[string]*inference.ModelInferResponse{"typed (request)": typedReq, "typed (output)": typedOut, "raw (explicit)": explicitRaw} {
			ts, tf := output(t, resp, name)
			if !cmp.Equal(rs, ts) || !cmp.Equal(rf, tf) {
				t.Errorf("output %q: raw and %s forms differ", name, what)
			}
		}
		for _, f := range rf {
			flagged = flagged || (name == "anomaly" && f)
		}
	}
	// The explanation in both forms: the same mechanism names and bands.
	if rm, tm := mechanisms(t, raw, "mechanism"), mechanisms(t, typedReq, "mechanism"); !cmp.Equal(rm, tm) || !slices.Contains(rm, "record") && !slices.Contains(rm, "shift") {
		t.Errorf("mechanism raw %v, typed %v: want equal, naming the spike", rm, tm)
	}
	for _, name := range []string{"expected", "expected_lower", "expected_upper"} {
		rs, _ := output(t, raw, name)
		ts, _ := output(t, typedReq, name)
		if !cmp.Equal(rs, ts) || len(rs) != len(values) {
			t.Errorf("output %q: raw and typed forms differ", name)
		}
	}
	if !flagged {
		t.Error("no anomaly flagged: the comparison would not see a wrong BOOL encoding")
	}
	bad := seqReq("a", 1)
	bad.Parameters["binary_data_output"] = strParam("no")
	if _, err := inference.NewGRPCInferenceServiceClient(serve(t, newServer(t))).ModelInfer(t.Context(), bad); err == nil {
		t.Error(`ModelInfer(binary_data_output: "no") = nil error, want InvalidArgument`)
	}
}
