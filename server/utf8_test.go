package server

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// rawMsg is a request already on the wire, so a test can send bytes that
// Go's protobuf would refuse to marshal.
type rawMsg []byte

// rawCodec sends rawMsg as is and everything else as protobuf.
type rawCodec struct{ encoding.CodecV2 }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(rawMsg); ok {
		return mem.BufferSlice{mem.SliceBuffer(r)}, nil
	}
	return c.CodecV2.Marshal(v)
}

var sendRaw = grpc.ForceCodecV2(rawCodec{encoding.GetCodecV2("proto")})

// corrupt marshals m, whose strings hold placeholders, and turns every
// placeholder into as many invalid UTF-8 bytes.
func corrupt(t *testing.T, m proto.Message, placeholders ...string) rawMsg {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range placeholders {
		if !bytes.Contains(b, []byte(p)) {
			t.Fatalf("placeholder %q not in %v", p, m)
		}
		b = bytes.ReplaceAll(b, []byte(p), bytes.Repeat([]byte{0xff}, len(p)))
	}
	return b
}

func wantAllInvalidID(t *testing.T, what string, vs []*astraguardv1.Verdict, n int) {
	t.Helper()
	if len(vs) != n {
		t.Fatalf("%s: %d verdicts, want %d", what, len(vs), n)
	}
	for i, v := range vs {
		if v.GetError().GetCode() != astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_INVALID_SERIES_ID || !utf8.ValidString(v.GetSeriesId()) {
			t.Errorf("%s: verdict %d = %v %q, want INVALID_SERIES_ID with a valid UTF-8 id", what, i, v.GetError().GetCode(), v.GetSeriesId())
		}
	}
}

// badRequest has invalid UTF-8 in its request id, a series id, a frame
// source and a channel name: 2 series samples and 2 channels.
func badRequest(t *testing.T) rawMsg {
	return corrupt(t, &astraguardv1.DetectRequest{
		RequestId: "req-BADREQ",
		Series:    []*astraguardv1.SeriesSamples{series("sat1/BADSERIES", 2)},
		Frames: []*astraguardv1.Frame{
			{Source: "BADSOURCE", Channels: []*astraguardv1.Channel{{Name: "v", Value: 1}}},
			{Source: "sat1", Channels: []*astraguardv1.Channel{{Name: "BADCHANNEL", Value: 1}}},
		},
	}, "BADREQ", "BADSERIES", "BADSOURCE", "BADCHANNEL")
}

// TestInvalidUTF8DetectKeepsStream pipelines valid requests around one
// whose every string is invalid UTF-8: every request is answered in order,
// the bad one with per-sample INVALID_SERIES_ID verdicts.
func TestInvalidUTF8DetectKeepsStream(t *testing.T) {
	e := newEnv(t, Config{})
	stream, err := e.detect.Detect(t.Context(), sendRaw)
	if err != nil {
		t.Fatal(err)
	}
	const before, after = 20, 20
	go func() {
		for i := range before + 1 + after {
			var m any = &astraguardv1.DetectRequest{RequestId: fmt.Sprint(i), Series: []*astraguardv1.SeriesSamples{series(fmt.Sprint("s", i), 3)}}
			if i == before {
				m = badRequest(t)
			}
			if err := stream.SendMsg(m); err != nil {
				return // Recv reports it
			}
		}
		_ = stream.CloseSend()
	}()
	for i := range before + 1 + after {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv() of response %d = %v, want all %d answered", i, err, before+1+after)
		}
		if i == before {
			if want := "req-" + strings.Repeat("\ufffd", 1); resp.GetRequestId() != want {
				t.Errorf("bad request echoed as %q, want %q", resp.GetRequestId(), want)
			}
			wantAllInvalidID(t, "bad request", resp.GetVerdicts(), 4)
			continue
		}
		if resp.GetRequestId() != fmt.Sprint(i) || len(resp.GetVerdicts()) != 3 || resp.GetVerdicts()[0].GetError() != nil {
			t.Fatalf("response %d = %v, want 3 scored verdicts for request %d", i, resp, i)
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Errorf("Recv() after the last response = %v, want EOF", err)
	}
}

// TestInvalidUTF8DetectBatch: the unary call answers, per sample.
func TestInvalidUTF8DetectBatch(t *testing.T) {
	e := newEnv(t, Config{})
	var resp astraguardv1.DetectBatchResponse
	// DetectRequest and DetectBatchRequest share their field numbers.
	if err := e.conn.Invoke(t.Context(), "/astraguard.v1.DetectorService/DetectBatch", badRequest(t), &resp, sendRaw); err != nil {
		t.Fatalf("DetectBatch(invalid UTF-8) = %v, want per-sample verdicts", err)
	}
	wantAllInvalidID(t, "DetectBatch", resp.GetVerdicts(), 4)
}

func TestEchoIDInvalidUTF8(t *testing.T) {
	tests := []struct {
		id   string
		max  int
		want string
	}{
		{"a\xffb", 256, "a\ufffdb"},
		{"a\xff\xfe", 256, "a\ufffd"},               // a run becomes one U+FFFD
		{"ab\xff", 3, "ab"},                         // the replacement would not fit
		{strings.Repeat("\xff", 1000), 4, "\ufffd"}, // cut before mending
	}
	for _, tt := range tests {
		if got := echoID(tt.id, tt.max); got != tt.want {
			t.Errorf("echoID(%q, %d) = %q, want %q", tt.id, tt.max, got, tt.want)
		}
	}
}
