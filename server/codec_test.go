package server

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// realisticResponse is a Detect response of n scored verdicts, as the model
// path sends them.
func realisticResponse(n int) *astraguardv1.DetectResponse {
	resp := &astraguardv1.DetectResponse{RequestId: "req-000042"}
	for i := range n {
		resp.Verdicts = append(resp.Verdicts, &astraguardv1.Verdict{
			SeriesId:  fmt.Sprintf("sat%d/channel-%02d", i/10, i%10),
			UnixNanos: 1_700_000_000_000_000_000 + int64(i)*1_000_000_000,
			Score:     float64(i%97) / 97,
			Anomaly:   i%17 == 0,
			Source:    astraguardv1.Source_SOURCE_MODEL,
			Mechanism: astraguardv1.Mechanism(i % 8),
			Expected:  &astraguardv1.Expectation{Value: 8.1, Lower: 7.9, Upper: 8.3 + float64(i)},
		})
	}
	return resp
}

// withUnknown is m with an unknown field a newer peer might have set.
func withUnknown[M proto.Message](m M) M {
	b := protowire.AppendTag(nil, 999, protowire.BytesType)
	m.ProtoReflect().SetUnknown(protowire.AppendString(b, "from a newer peer"))
	return m
}

// marshalCases are responses of every shape the server sends: empty, the
// largest verdicts respsize.go bounds, errors, unknown fields, admin views
// with well-known types, and one past gRPC's buffer pooling threshold.
func marshalCases() map[string]proto.Message {
	longest := &astraguardv1.DetectResponse{RequestId: strings.Repeat("r", 1000)}
	for range 3 {
		longest.Verdicts = append(longest.Verdicts, longestVerdict(false), longestVerdict(true))
	}
	return map[string]proto.Message{
		"empty":          &astraguardv1.DetectResponse{},
		"empty verdict":  &astraguardv1.DetectResponse{Verdicts: []*astraguardv1.Verdict{{}}},
		"realistic":      realisticResponse(100),
		"pooled":         realisticResponse(10_000),
		"longest":        longest,
		"batch":          &astraguardv1.DetectBatchResponse{RequestId: "b", Verdicts: realisticResponse(3).GetVerdicts()},
		"unknown fields": withUnknown(&astraguardv1.DetectResponse{Verdicts: []*astraguardv1.Verdict{withUnknown(longestVerdict(true))}}),
		"negative and NaN": &astraguardv1.DetectResponse{Verdicts: []*astraguardv1.Verdict{{
			UnixNanos: math.MinInt64, Score: math.NaN(), Source: -1,
			Expected: &astraguardv1.Expectation{Value: math.Inf(-1), Lower: math.Copysign(0, -1)},
		}}},
		"watch snapshot": &astraguardv1.WatchBreakersResponse{Event: &astraguardv1.WatchBreakersResponse_Snapshot{
			Snapshot: &astraguardv1.ListBreakersResponse{Breakers: []*astraguardv1.Breaker{{Name: "a"}, {}}},
		}},
		"watch empty transition": &astraguardv1.WatchBreakersResponse{Event: &astraguardv1.WatchBreakersResponse_Transition{
			Transition: &astraguardv1.Transition{},
		}},
		"admin": &astraguardv1.Breaker{
			Name: "model", OverrideReason: "maintenance ünïcode",
			NextProbeTime: timestamppb.New(time.Unix(1_700_000_000, 5)),
			Settings:      &astraguardv1.BreakerSettings{RecoveryTimeout: durationpb.New(-90 * time.Second), FailureThreshold: math.MaxUint32, FailureRatioThreshold: 0.5},
		},
	}
}

// TestCodecMarshalMatchesProto: the codec's encoding of every response
// shape is what protobuf-go would send, up to the sign of zeros.
func TestCodecMarshalMatchesProto(t *testing.T) {
	c := newServerCodec(decodedBound(4<<20), nil)
	for name, m := range marshalCases() {
		t.Run(name, func(t *testing.T) { checkEncoding(t, c, m) })
	}
}

// checkEncoding fails t unless m's generated size is protobuf-go's, no more
// than the size respsize.go bounds, and what c sends for m decodes, with
// protobuf-go, to m: all up to -0.0 (see positiveZeros).
func checkEncoding(t *testing.T, c *serverCodec, m proto.Message) {
	t.Helper()
	vt, ok := m.(vtMessage)
	if !ok {
		t.Fatalf("%T has no vtprotobuf methods", m)
	}
	want := proto.Clone(m)
	positiveZeros(want.ProtoReflect())
	if got := vt.SizeVT(); got != proto.Size(want) || got > proto.Size(m) {
		t.Fatalf("SizeVT() = %d, want proto.Size %d (%d with its -0.0s)", got, proto.Size(want), proto.Size(m))
	}
	data, err := c.Marshal(m)
	if err != nil {
		t.Fatalf("Marshal() error = %v", err)
	}
	defer data.Free()
	got := m.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(data.Materialize(), got); err != nil {
		t.Fatalf("proto.Unmarshal(Marshal()) error = %v", err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("proto.Unmarshal(Marshal(%v)) = %v", m, got)
	}
}

// positiveZeros clears every singular float or double of m that holds
// -0.0. vtprotobuf's encoder (v0.6) sends such a field as proto3's default,
// that is not at all, where protobuf-go sends the -0.0: the receiver reads
// +0.0, the same number.
func positiveZeros(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
		case fd.IsList():
			for i := range v.List().Len() {
				if fd.Message() != nil {
					positiveZeros(v.List().Get(i).Message())
				}
			}
		case fd.Message() != nil:
			positiveZeros(v.Message())
		case (fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind) &&
			!fd.HasPresence() && v.Float() == 0 && math.Signbit(v.Float()):
			m.Clear(fd)
		}
		return true
	})
}

// TestCodecWithoutVT: health and reflection messages go to gRPC's codec.
func TestCodecWithoutVT(t *testing.T) {
	c := newServerCodec(decodedBound(4<<20), nil)
	in := &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}
	data, err := c.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal() error = %v", err)
	}
	var out healthpb.HealthCheckResponse
	if err := c.Unmarshal(data, &out); err != nil || !proto.Equal(&out, in) {
		t.Errorf("Unmarshal(Marshal(%v)) = %v, %v", in, &out, err)
	}
}
