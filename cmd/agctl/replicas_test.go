package main

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/astraguard/astraguard/client"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// recordingDetector is fakeDetector that records the series it scored.
type recordingDetector struct {
	fakeDetector
	mu     sync.Mutex
	series map[string]bool // guarded by mu
}

func (r *recordingDetector) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	r.mu.Lock()
	for _, k := range md.Get(client.HashHeader) {
		r.series[k] = true
	}
	r.mu.Unlock()
	return r.fakeDetector.Detect(stream)
}

// listenReplica serves a recordingDetector on a loopback port.
func listenReplica(t *testing.T) (string, *recordingDetector) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rd := &recordingDetector{series: map[string]bool{}}
	srv := grpc.NewServer()
	astraguardv1.RegisterDetectorServiceServer(srv, rd)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return lis.Addr().String(), rd
}

// TestReplayOverReplicas replays 12 files with --addr a,b,c, where c is
// down: every file's series is scored by exactly one live replica, both
// get some, and every row gets its verdict.
func TestReplayOverReplicas(t *testing.T) {
	a, ra := listenReplica(t)
	b, rb := listenReplica(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := dead.Addr().String()
	dead.Close() // nothing listens there: its series must go elsewhere

	data, out := t.TempDir(), t.TempDir()
	want := map[string][]string{}
	for i := range 12 {
		rel := filepath.Join("sat", string(rune('a'+i))+".csv")
		want[rel] = writeInput(t, data, rel, 40)
	}
	var stderr bytes.Buffer
	cl := &cli{stdout: &bytes.Buffer{}, stderr: &stderr, getenv: func(string) string { return "" }}
	args := []string{"replay", "--addr", strings.Join([]string{a, b, c}, ","), "--data", data, "--out", out, "--batch", "7", "--parallel", "4", "--allow-errors"}
	if err := cl.run(t.Context(), args); err != nil {
		t.Fatalf("replay = %v; stderr:\n%s", err, stderr.String())
	}
	for rel, w := range want {
		got := readLines(t, filepath.Join(out, rel))
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", rel, diff)
		}
		// SPEC: these columns come first, in this order.
		if !strings.HasPrefix(got[0], "timestamp,value,anomaly_score,anomaly,source,reason") {
			t.Errorf("%s header %q, want timestamp,value,anomaly_score,anomaly,source,reason first", rel, got[0])
		}
	}
	for k := range ra.series {
		if rb.series[k] {
			t.Errorf("series %s scored by both replicas, want one", k)
		}
	}
	if len(ra.series) == 0 || len(rb.series) == 0 || len(ra.series)+len(rb.series) != 12 {
		t.Errorf("replicas scored %d and %d series, want the 12 spread over both", len(ra.series), len(rb.series))
	}
}
