package modelserver_test

import (
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

// TestRepeatedRequestID: a request resent under its id is answered with
// the first answer and not applied again; a different request reusing the
// id is scored as usual. Over bufconn, against a twin server that sees
// every request once.
func TestRepeatedRequestID(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	fixedNow := modelserver.WithNow(func() time.Time { return now })
	c := inference.NewGRPCInferenceServiceClient(serve(t, newServer(t, modelserver.WithInstanceID("i"), fixedNow)))
	twin := inference.NewGRPCInferenceServiceClient(serve(t, newServer(t, modelserver.WithInstanceID("i"), fixedNow)))
	infer := func(c inference.GRPCInferenceServiceClient, id string, values []float64) *inference.ModelInferResponse {
		t.Helper()
		req := seqReq("s", values...)
		req.Id = id
		resp, err := c.ModelInfer(t.Context(), req)
		if err != nil {
			t.Fatalf("ModelInfer(%q) = %v", id, err)
		}
		return resp
	}
	v := ramp(60)
	first := infer(c, "r1", v[:15])
	if again := infer(c, "r1", v[:15]); !cmp.Equal(first, again, protocmp.Transform()) {
		t.Errorf("resent request answered differently:\n%v\n%v", first, again)
	}
	infer(twin, "r1", v[:15])
	// The id reused for other samples: a new request.
	a, b := infer(c, "r1", v[15:30]), infer(twin, "x", v[15:30])
	b.Id = "r1"
	if !cmp.Equal(a, b, protocmp.Transform()) {
		t.Error("a request reusing an id was not scored as a new one")
	}
	// The series learned each batch once: later answers agree with the twin's.
	got, want := infer(c, "r2", v[30:]), infer(twin, "r2", v[30:])
	if diff := cmp.Diff(warm(t, want), warm(t, got)); diff != "" {
		t.Errorf("warm after a resent request (-once +server):\n%s", diff)
	}
	if s1, _ := output(t, got, "score"); !cmp.Equal(s1, func() []float64 { s, _ := output(t, want, "score"); return s }()) {
		t.Error("scores after a resent request differ from a server that saw it once")
	}
}

// TestLongRequestIDRefused: the replay memory keeps recent ids for 30s, so
// an id is bounded (40 requests with 15 MiB ids held 600 MB before).
func TestLongRequestIDRefused(t *testing.T) {
	s := newServer(t)
	req := seqReq("s", 1)
	req.Id = strings.Repeat("x", modelserver.MaxRequestIDBytes+1)
	if _, err := s.ModelInfer(t.Context(), req); status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "request id is 257 bytes, at most 256") {
		t.Errorf("ModelInfer(id of 257 bytes) = %v, want INVALID_ARGUMENT naming the bound", err)
	}
	if s.Series().Len() != 0 {
		t.Errorf("a refused request made %d series, want 0", s.Series().Len())
	}
	req.Id = req.Id[1:]
	if _, err := s.ModelInfer(t.Context(), req); err != nil {
		t.Errorf("ModelInfer(id of 256 bytes) = %v, want it scored", err)
	}
}
