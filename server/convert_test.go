package server

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

func TestEchoID(t *testing.T) {
	tests := []struct {
		id   string
		max  int
		want string
	}{
		{"sat1/voltage", 256, "sat1/voltage"},
		{"abcd", 4, "abcd"},
		{"abcde", 4, "abcd"},
		{"aé", 2, "a"},           // é is 2 bytes: cut, not split
		{"a\u20ac", 3, "a"},      // € is 3 bytes
		{"\ufffdx", 3, "\ufffd"}, // a real U+FFFD stays
	}
	for _, tt := range tests {
		if got := echoID(tt.id, tt.max); got != tt.want {
			t.Errorf("echoID(%q, %d) = %q, want %q", tt.id, tt.max, got, tt.want)
		}
	}
}

// wantInvalidIDs checks that every verdict is an INVALID_SERIES_ID error
// naming want, and that the response stays near the size of ordinary
// verdicts rather than growing with the id's length.
func wantInvalidIDs(t *testing.T, resp *astraguardv1.DetectBatchResponse, samples int, want string) {
	t.Helper()
	if got := len(resp.GetVerdicts()); got != samples {
		t.Fatalf("got %d verdicts, want %d", got, samples)
	}
	for i, v := range resp.GetVerdicts() {
		if v.GetError().GetCode() != astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_INVALID_SERIES_ID || v.GetSeriesId() != want {
			t.Fatalf("verdict %d = %v %.40q (%d bytes), want INVALID_SERIES_ID %.40q (%d bytes)", i, v.GetError().GetCode(), v.GetSeriesId(), len(v.GetSeriesId()), want, len(want))
		}
	}
	// 256 id bytes, the error's message and a few tags per verdict.
	if size, bound := proto.Size(resp), samples*(256+128); size > bound {
		t.Errorf("response of %d samples is %d bytes, want <= %d", samples, size, bound)
	}
}

// TestOverlongFrameIDNotBuilt sends a frame whose source alone is over the
// id limit, with many channels: the server must neither build
// "<source>/<channel>" per channel nor echo it whole.
func TestOverlongFrameIDNotBuilt(t *testing.T) {
	e := newEnv(t, Config{})
	source := strings.Repeat("s", 64<<10)
	const channels = 1000
	frame := &astraguardv1.Frame{Source: source}
	for range channels {
		frame.Channels = append(frame.Channels, &astraguardv1.Channel{Name: "v", Value: 1})
	}
	req := &astraguardv1.DetectBatchRequest{Frames: []*astraguardv1.Frame{frame}}
	resp, err := e.srv.detect.DetectBatch(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantInvalidIDs(t, resp, channels, source[:256])

	b := batch{maxID: 256}
	b.toGroups(nil, req.Frames) // grow the reusable buffers
	if allocs := testing.AllocsPerRun(5, func() { b.toGroups(nil, req.Frames) }); allocs > 0 {
		t.Errorf("toGroups allocated %v times for %d over-long frame ids, want 0", allocs, channels)
	}
}

// TestOverlongFrameIDCutAtLimit: a source and channel that are short
// enough alone but too long together.
func TestOverlongFrameIDCutAtLimit(t *testing.T) {
	e := newEnv(t, Config{})
	source, name := strings.Repeat("s", 200), strings.Repeat("n", 100)
	req := &astraguardv1.DetectBatchRequest{Frames: []*astraguardv1.Frame{{Source: source, Channels: []*astraguardv1.Channel{{Name: name, Value: 1}}}}}
	resp, err := e.srv.detect.DetectBatch(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantInvalidIDs(t, resp, 1, source+"/"+name[:55])
}

// TestOverlongSeriesIDEchoTruncated sends one long series id with many
// values: every value gets its error, and the id comes back cut to the
// limit at a character boundary instead of once per value in full.
func TestOverlongSeriesIDEchoTruncated(t *testing.T) {
	e := newEnv(t, Config{})
	id := "a" + strings.Repeat("é", 32<<10) // byte 256 is inside an é
	const samples = 1000
	req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: id, Values: make([]float64, samples)}}}
	resp, err := e.srv.detect.DetectBatch(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantInvalidIDs(t, resp, samples, id[:255])
}

// TestSeriesSetSkipsOverlongIDs: over-long ids get an error verdict, so
// they must not take series slots, nor cost hashing a long source once per
// channel.
func TestSeriesSetSkipsOverlongIDs(t *testing.T) {
	frame := &astraguardv1.Frame{Source: strings.Repeat("s", 64<<10)}
	for i := range 100 {
		frame.Channels = append(frame.Channels, &astraguardv1.Channel{Name: fmt.Sprint(i)})
	}
	long := &astraguardv1.Frame{Source: strings.Repeat("s", 250), Channels: []*astraguardv1.Channel{{Name: "0123456789"}}}
	series := []*astraguardv1.SeriesSamples{{SeriesId: strings.Repeat("x", 257)}, {SeriesId: strings.Repeat("x", 300)}}
	ss := newSeriesSet(1, 256)
	if err := ss.add(series, []*astraguardv1.Frame{frame, long}); err != nil {
		t.Errorf("add(over-long ids) = %v, want nil: no slot taken", err)
	}
	if err := ss.add([]*astraguardv1.SeriesSamples{{SeriesId: strings.Repeat("x", 256)}, {SeriesId: "y"}}, nil); err == nil {
		t.Errorf("add(two ids within the limit) = nil, want the series limit of 1")
	}
}

// TestSeriesIDLimitFromScorer: the server cuts at the detector's own
// limit, and at the detector's default for a Scorer that has none.
func TestSeriesIDLimitFromScorer(t *testing.T) {
	breakers, err := breaker.NewRegistry(strict)
	if err != nil {
		t.Fatal(err)
	}
	det, err := detector.New(&fakeModel{}, breakers.Breaker("model"), detector.Config{MaxSeriesIDBytes: 8})
	if err != nil {
		t.Fatal(err)
	}
	req := &astraguardv1.DetectBatchRequest{Frames: []*astraguardv1.Frame{{Source: "sat1", Channels: []*astraguardv1.Channel{{Name: "temperature", Value: 1}}}}}
	resp, err := NewDetectorService(det, 0).DetectBatch(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v := resp.GetVerdicts()[0]
	if v.GetSeriesId() != "sat1/tem" || v.GetError().GetCode() != astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_INVALID_SERIES_ID {
		t.Errorf("verdict = %q %v, want \"sat1/tem\" INVALID_SERIES_ID", v.GetSeriesId(), v.GetError().GetCode())
	}
	if got := NewDetectorService(halfScorer{}, 0).maxID; got != detector.DefaultMaxSeriesIDBytes {
		t.Errorf("series id limit for a Scorer without one = %d, want %d", got, detector.DefaultMaxSeriesIDBytes)
	}
}

// TestMechanismsMatchAPI keeps detector.Mechanism and the API's Mechanism
// enum in one order, since fillVerdict converts by number.
func TestMechanismsMatchAPI(t *testing.T) {
	for m := detector.MechanismNone; m <= detector.MechanismState; m++ {
		name := astraguardv1.Mechanism(m).String()
		want := "MECHANISM_" + strings.ToUpper(m.String())
		if m == detector.MechanismNone {
			want = "MECHANISM_UNSPECIFIED"
		}
		if name != want {
			t.Errorf("detector mechanism %d (%s) is API %s, want %s", m, m, name, want)
		}
	}
}

// TestVerdictCarriesBand checks the explanation reaches the API message, and
// that a reused message drops a previous sample's band.
func TestVerdictCarriesBand(t *testing.T) {
	var m astraguardv1.Verdict
	var band astraguardv1.Expectation
	v := detector.Verdict{Source: detector.SourceModel, Explain: detector.Explanation{
		Mechanism: detector.MechanismSeason, HasBand: true, Expected: 5, Lower: 4, Upper: 6}}
	fillVerdict(&m, "s", &v, &band)
	if m.GetMechanism() != astraguardv1.Mechanism_MECHANISM_SEASON || m.GetExpected().GetValue() != 5 ||
		m.GetExpected().GetLower() != 4 || m.GetExpected().GetUpper() != 6 {
		t.Errorf("fillVerdict() = %v, want season with band 4 <= 5 <= 6", &m)
	}
	fillVerdict(&m, "s", &detector.Verdict{Source: detector.SourceHeuristic}, &band)
	if m.GetExpected() != nil || m.GetMechanism() != astraguardv1.Mechanism_MECHANISM_UNSPECIFIED {
		t.Errorf("reused message kept the explanation: %v", &m)
	}
}
