package server

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestDetectPipelinedInOrder(t *testing.T) {
	e := newEnv(t, Config{})
	stream, err := e.detect.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ts := e.clock.Now().UnixNano() - 1e9
	reqs := []*astraguardv1.DetectRequest{
		{RequestId: "r1", Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/pressure", UnixNanos: []int64{ts, ts + 1}, Values: []float64{10, 60}}}},
		{RequestId: "r2", Frames: []*astraguardv1.Frame{{Source: "sat1", UnixNanos: ts + 2, Channels: []*astraguardv1.Channel{{Name: "voltage", Value: 12}, {Name: "gyro", Value: 0.01}}}}},
		{RequestId: "r3", Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/pressure", UnixNanos: []int64{ts + 3}, Values: []float64{math.NaN()}}}},
	}
	for _, r := range reqs { // pipelined: all sent before any reply is read
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	want := []*astraguardv1.DetectResponse{
		{RequestId: "r1", Verdicts: []*astraguardv1.Verdict{
			{SeriesId: "sat1/pressure", UnixNanos: ts, Score: 0.1, Source: astraguardv1.Source_SOURCE_MODEL},
			{SeriesId: "sat1/pressure", UnixNanos: ts + 1, Score: 0.6, Anomaly: true, Source: astraguardv1.Source_SOURCE_MODEL},
		}},
		{RequestId: "r2", Verdicts: []*astraguardv1.Verdict{
			// 12 V breaks the voltage limit: an anomaly of score 1 whatever the model says.
			{SeriesId: "sat1/voltage", UnixNanos: ts + 2, Score: 1, Anomaly: true, LimitViolation: true, Source: astraguardv1.Source_SOURCE_MODEL,
				Mechanism: astraguardv1.Mechanism_MECHANISM_LIMIT},
			{SeriesId: "sat1/gyro", UnixNanos: ts + 2, Score: 0.0001, Source: astraguardv1.Source_SOURCE_MODEL},
		}},
		{RequestId: "r3", Verdicts: []*astraguardv1.Verdict{
			{SeriesId: "sat1/pressure", UnixNanos: ts + 3, Error: &astraguardv1.SampleError{
				Code: astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_NOT_FINITE, Message: "value is NaN or infinite"}},
		}},
	}
	for i, w := range want {
		got, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv() %d error = %v", i, err)
		}
		if diff := cmp.Diff(w, got, protocmp.Transform()); diff != "" {
			t.Errorf("response %d mismatch (-want +got):\n%s", i, diff)
		}
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv() after last = %v, want EOF", err)
	}
}

func TestDetectBatchBadInputKeepsEverySample(t *testing.T) {
	e := newEnv(t, Config{})
	ts := e.clock.Now().UnixNano() - 1e9
	req := &astraguardv1.DetectBatchRequest{RequestId: "b", Series: []*astraguardv1.SeriesSamples{
		{SeriesId: "", Values: []float64{1}},
		{SeriesId: "x", UnixNanos: []int64{ts}, Values: []float64{1, 2}},
		{SeriesId: "y", UnixNanos: []int64{ts, ts + 1}, Values: []float64{math.Inf(-1), 3}},
	}, Frames: []*astraguardv1.Frame{{Source: "", Channels: []*astraguardv1.Channel{{Name: "v", Value: 1}}}}}
	resp, err := e.detect.DetectBatch(t.Context(), req)
	if err != nil {
		t.Fatalf("DetectBatch() error = %v", err)
	}
	var got []astraguardv1.SampleErrorCode
	for _, v := range resp.GetVerdicts() {
		got = append(got, v.GetError().GetCode())
	}
	want := []astraguardv1.SampleErrorCode{
		astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_MISSING_SERIES_ID,
		astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_LENGTH_MISMATCH,
		astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_LENGTH_MISMATCH,
		astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_NOT_FINITE,
		astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_UNSPECIFIED,
		astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_MISSING_SERIES_ID,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error codes mismatch (-want +got):\n%s", diff)
	}
	if resp.GetRequestId() != "b" {
		t.Errorf("request id = %q, want b", resp.GetRequestId())
	}
}

func TestDetectSampleLimit(t *testing.T) {
	e := newEnv(t, Config{MaxSamplesPerRequest: 3})
	_, err := e.detect.DetectBatch(t.Context(), e.batch("s", 1, 1, 2, 3, 4))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("DetectBatch(4 samples) error = %v, want ResourceExhausted", err)
	}
	if msg := status.Convert(err).Message(); msg != "limit exceeded: samples per request: 4 > 3" {
		t.Errorf("message = %q, want one naming the limit", msg)
	}
	stream, err := e.detect.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&astraguardv1.DetectRequest{RequestId: "big", Series: e.batch("s", 1, 1, 2, 3, 4).GetSeries()}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("Detect(4 samples) error = %v, want ResourceExhausted", err)
	}
}
