package modelserver_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/gen/inference"
)

// TestErrorsQuoteLittle: an error names what was wrong without echoing
// more than a bounded part of it. Every client string an error quoted came
// back whole (a 15 MiB model name of control characters: a 78 MB log line
// and 1.2 GB of allocations per call), and so did a shape of any number of
// dimensions, which every output of an answer echoes too.
func TestErrorsQuoteLittle(t *testing.T) {
	huge := strings.Repeat("\x01", 1<<20)
	many := make([]int64, 100_000)
	for i := range many {
		many[i] = 1
	}
	many[len(many)-1] = -1
	infer := func(req *inference.ModelInferRequest) func(inference.GRPCInferenceServiceServer) error {
		return func(s inference.GRPCInferenceServiceServer) error {
			_, err := s.ModelInfer(t.Context(), req)
			return err
		}
	}
	withInput := func(in ...*tensor) *inference.ModelInferRequest {
		r := seqReq("a", 1)
		r.Inputs = append(r.Inputs, in...)
		return r
	}
	tests := []struct {
		name string
		call func(inference.GRPCInferenceServiceServer) error
		code codes.Code
		msg  string
	}{
		{"model name", infer(&inference.ModelInferRequest{ModelName: huge}), codes.NotFound, `model "\x01\x01`},
		{"model version", infer(&inference.ModelInferRequest{ModelName: "astraguard-anomaly", ModelVersion: huge}), codes.NotFound, `version "\x01`},
		{"ModelReady", func(s inference.GRPCInferenceServiceServer) error {
			_, err := s.ModelReady(t.Context(), &inference.ModelReadyRequest{Name: huge})
			return err
		}, codes.NotFound, `model "\x01`},
		{"ModelMetadata", func(s inference.GRPCInferenceServiceServer) error {
			_, err := s.ModelMetadata(t.Context(), &inference.ModelMetadataRequest{Name: huge})
			return err
		}, codes.NotFound, `model "\x01`},
		{"input name", infer(withInput(&tensor{Name: huge})), codes.InvalidArgument, `unknown input "\x01`},
		{"datatype", infer(withInput(&tensor{Name: "timestamp", Datatype: huge})), codes.InvalidArgument, `datatype "\x01`},
		{"output name", func(s inference.GRPCInferenceServiceServer) error {
			r := seqReq("a", 1)
			r.Outputs = []*inference.ModelInferRequest_InferRequestedOutputTensor{{Name: huge}}
			_, err := s.ModelInfer(t.Context(), r)
			return err
		}, codes.InvalidArgument, `unknown output "\x01`},
		{"shape", infer(withInput(&tensor{Name: "timestamp", Datatype: "INT64", Shape: many})), codes.InvalidArgument, "100000 dimensions, at most 32"},
		{"33 dimensions of 1", infer(withInput(&tensor{Name: "timestamp", Datatype: "INT64", Shape: many[:33]})), codes.InvalidArgument, "33 dimensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(newServer(t))
			msg := status.Convert(err).Message()
			if status.Code(err) != tt.code || !strings.Contains(msg, tt.msg) || len(msg) > 1024 {
				if len(msg) > 200 {
					msg = msg[:200] + "..."
				}
				t.Errorf("= %v %d bytes %q, want %v containing %q, at most 1024 bytes", status.Code(err), len(status.Convert(err).Message()), msg, tt.code, tt.msg)
			}
		})
	}
}
