package loadtest

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs svc over bufconn and returns a client; everything stops at
// the end of the test.
func serve(t *testing.T, svc astraguardv1.DetectorServiceServer) astraguardv1.DetectorServiceClient {
	t.Helper()
	srv := grpc.NewServer()
	astraguardv1.RegisterDetectorServiceServer(srv, svc)
	return astraguardv1.NewDetectorServiceClient(testkit.ServeBufconn(t, srv))
}

func newTestWorkload(t *testing.T, n int) *Workload {
	t.Helper()
	w, err := NewWorkload(n, time.Unix(1_700_000_000, 0), time.Second)
	if err != nil {
		t.Fatalf("NewWorkload() = %v", err)
	}
	return w
}

func TestThroughputEcho(t *testing.T) {
	c := serve(t, Echo{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	w := newTestWorkload(t, 20)
	cfg := ThroughputConfig{Shape: Shape{SeriesPerRequest: 3, SamplesPerSeries: 4}, Streams: 2, Window: 3, Requests: 7}
	got, err := Throughput(ctx, c, w.Split(2), cfg)
	if err != nil {
		t.Fatalf("Throughput() = %v", err)
	}
	const want = 2 * 7 * 3 * 4
	if got.Sent != want || got.Samples != want || got.Model != want || got.Requests != 14 || got.Lost != 0 || got.Mismatched != 0 {
		t.Errorf("Throughput() = %+v, want %d samples sent and answered by MODEL, 14 responses, none lost or mismatched", got, want)
	}
}

func TestLockstepEcho(t *testing.T) {
	c := serve(t, Echo{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	got, err := Lockstep(ctx, c, newTestWorkload(t, 5).Split(1)[0], LockstepConfig{Requests: 25})
	if err != nil {
		t.Fatalf("Lockstep() = %v", err)
	}
	if got.Samples != 25 || got.Lost != 0 || got.Mismatched != 0 || len(got.Latencies) != 25 {
		t.Errorf("Lockstep() = %d samples, %d lost, %d mismatched, %d latencies; want 25, 0, 0, 25", got.Samples, got.Lost, got.Mismatched, len(got.Latencies))
	}
}

// shortEcho drops the last verdict of every third response.
type shortEcho struct{ Echo }

func (shortEcho) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	for i := 0; ; i++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		vs, _ := Echo{}.verdicts(nil, nil, req.GetSeries(), req.GetFrames())
		if i%3 == 2 {
			vs = vs[:len(vs)-1]
		}
		if err := stream.Send(&astraguardv1.DetectResponse{RequestId: req.GetRequestId(), Verdicts: vs}); err != nil {
			return err
		}
	}
}

func TestThroughputCountsLostVerdicts(t *testing.T) {
	c := serve(t, shortEcho{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	cfg := ThroughputConfig{Shape: Shape{SeriesPerRequest: 2, SamplesPerSeries: 5}, Window: 4, Requests: 9}
	got, err := Throughput(ctx, c, newTestWorkload(t, 4).Split(1), cfg)
	if err != nil {
		t.Fatalf("Throughput() = %v", err)
	}
	if got.Sent != 90 || got.Lost != 3 || got.Mismatched != 3 || got.Samples != 87 {
		t.Errorf("Throughput() = sent %d, answered %d, lost %d, mismatched %d; want 90, 87, 3, 3", got.Sent, got.Samples, got.Lost, got.Mismatched)
	}
}

func TestFeedTimesIncreasePerSeries(t *testing.T) {
	w := newTestWorkload(t, 7)
	last := map[string]int64{}
	var req astraguardv1.DetectRequest
	for _, k := range []int{1, 3, 7, 2, 1} { // re-split as the phases do
		for _, f := range w.Split(k) {
			for range 4 {
				f.Fill(&req, 2, 3)
				for _, s := range req.GetSeries() {
					if len(s.GetUnixNanos()) != 3 || len(s.GetValues()) != 3 {
						t.Fatalf("Fill() series %q has %d times, %d values; want 3, 3", s.GetSeriesId(), len(s.GetUnixNanos()), len(s.GetValues()))
					}
					for i, ts := range s.GetUnixNanos() {
						if ts <= last[s.GetSeriesId()] {
							t.Fatalf("Fill() series %q time %d after %d, want increasing", s.GetSeriesId(), ts, last[s.GetSeriesId()])
						}
						last[s.GetSeriesId()] = ts
						if v := s.GetValues()[i]; math.IsNaN(v) || math.IsInf(v, 0) {
							t.Fatalf("Fill() value %v, want finite", v)
						}
					}
				}
			}
		}
	}
	if len(last) != 7 {
		t.Errorf("Fill() touched %d series, want 7", len(last))
	}
}

func TestPercentile(t *testing.T) {
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{7}, 99, 7},
		{"p50 of ten", ten, 50, 5},
		{"p90 of ten", ten, 90, 9},
		{"p99 of ten", ten, 99, 10},
		{"p100 of ten", ten, 100, 10},
		{"tiny p is the minimum", ten, 0.001, 1},
		{"p51 rounds up", ten, 51, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		hz      int
		want    time.Duration
		wantErr bool
	}{
		{"plain", "42 (astraguard) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 1 2 3", 100, 2 * time.Second, false},
		{"name with spaces and parens", "42 (a) b (c) R 1 42 42 0 -1 0 0 0 0 0 3 1 0 0 20 0 1 0", 100, 40 * time.Millisecond, false},
		{"other hz", "1 (x) S 0 1 1 0 -1 0 0 0 0 0 250 250 0", 250, 2 * time.Second, false},
		{"truncated", "1 (x) S 0 1", 100, 0, true},
		{"no name", "garbage", 100, 0, true},
		{"bad number", "1 (x) S 0 1 1 0 -1 0 0 0 0 0 z 1 0", 100, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat), tt.hz)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatCPU(%q) = %v, %v; want %v, error %v", tt.stat, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestProcessCPUSelf(t *testing.T) {
	if _, err := ProcessCPU(1<<30, 100); err == nil {
		t.Errorf("ProcessCPU(no such pid) = nil error, want one")
	}
	got, err := ProcessCPU(os.Getpid(), 100)
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if got < 0 {
		t.Errorf("ProcessCPU(self) = %v, want >= 0", got)
	}
}

// TestShapedEchoFillsTheModelFields: a shaped echo answers every sample
// with a score, a mechanism and an expected band, as the service's model
// path does; a plain one with none of them.
func TestShapedEchoFillsTheModelFields(t *testing.T) {
	req := &astraguardv1.DetectBatchRequest{
		Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat000/voltage", UnixNanos: []int64{1, 2}, Values: []float64{8, 8.1}}},
		Frames: []*astraguardv1.Frame{{Source: "sat001", UnixNanos: 3, Channels: []*astraguardv1.Channel{{Name: "gyro", Value: 0.01}}}},
	}
	for _, shaped := range []bool{false, true} {
		resp, err := Echo{Shaped: shaped}.DetectBatch(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetVerdicts()) != 3 {
			t.Fatalf("shaped=%v: %d verdicts, want 3", shaped, len(resp.GetVerdicts()))
		}
		for _, v := range resp.GetVerdicts() {
			filled := v.GetScore() > 0 && v.GetMechanism() != astraguardv1.Mechanism_MECHANISM_UNSPECIFIED && v.GetExpected() != nil
			if filled != shaped {
				t.Errorf("shaped=%v: verdict %v", shaped, v)
			}
		}
	}
}
