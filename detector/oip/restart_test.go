package oip_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/internal/modelserver"
)

// TestModelServerRestart replaces the model server mid-stream with a new
// instance at the same address: its state is gone, so predictions are cold
// again, none is lost (a call made while the server is down waits for it)
// and none is corrupt (each matches an in-process model fed exactly what
// that server instance saw).
func TestModelServerRestart(t *testing.T) {
	var l listener
	stopA := serveOn(t, &l, newModelServer(t, modelserver.Config{}, modelserver.WithInstanceID("A")))
	conn := bufConn(t, &l, grpc.WithDefaultCallOptions(grpc.WaitForReady(true)))
	var restarts counter
	c := newClient(t, conn, oip.Config{}, oip.WithRestartCounter(&restarts))

	all := batches([]string{"sat1/voltage", "sat2/voltage"}, 600, 50)
	const restartAt = 6 // 300 samples per series: warm before the restart
	ref := newRef(t)
	predict := func(k int) ([]detector.Prediction, error) {
		out := make([]detector.Prediction, count(all[k]))
		return out, c.Predict(t.Context(), all[k], out)
	}
	check := func(k int, got []detector.Prediction) {
		t.Helper()
		want := make([]detector.Prediction, len(got))
		if err := ref.Predict(t.Context(), all[k], want); err != nil {
			t.Fatalf("reference Predict() = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("batch %d: Predict() mismatch (-reference +remote):\n%s", k, diff)
		}
	}

	for k := range restartAt {
		got, err := predict(k)
		if err != nil {
			t.Fatalf("batch %d: Predict() = %v", k, err)
		}
		check(k, got)
	}
	if last, _ := predict(restartAt - 1); !last[len(last)-1].Warm {
		t.Fatalf("series not warm before the restart")
	}

	// Restart: stop A, send the next batch while nothing listens, then
	// bring B up on a fresh listener at the same "address".
	stopA()
	// The next call is made while the server is down, so it must wait for
	// B. Let the connection notice A's end first: a call racing A's closing
	// transport is the retry policy's case (retry_test.go), and on a loaded
	// machine it could use up its attempts before B is up.
	for s := conn.GetState(); s == connectivity.Ready; s = conn.GetState() {
		conn.WaitForStateChange(t.Context(), s)
	}
	type result struct {
		out []detector.Prediction
		err error
	}
	done := make(chan result)
	go func() {
		out, err := predict(restartAt)
		done <- result{out, err}
	}()
	serveOn(t, &l, newModelServer(t, modelserver.Config{}, modelserver.WithInstanceID("B")))
	r := <-done
	if r.err != nil {
		t.Fatalf("batch %d (across the restart): Predict() = %v", restartAt, r.err)
	}

	// B's state is new: compare with a fresh reference from here on.
	ref = newRef(t)
	check(restartAt, r.out)
	for i, p := range r.out {
		if p.Warm {
			t.Fatalf("prediction %d after the restart is warm, want cold", i)
		}
	}
	for k := restartAt + 1; k < len(all); k++ {
		got, err := predict(k)
		if err != nil {
			t.Fatalf("batch %d: Predict() = %v", k, err)
		}
		check(k, got)
	}
	if got := c.InstanceID(); got != "B" {
		t.Errorf("InstanceID() = %q, want B", got)
	}
	if got := c.Restarts(); got != 1 {
		t.Errorf("Restarts() = %d, want 1", got)
	}
	if got := restarts.n.Load(); got != 1 {
		t.Errorf("restart counter = %d, want 1", got)
	}
}

// TestLongInstanceIDLoggedCut: the model server picks its instance_id, and
// the client logs it when it first sees one and on every change; a log
// line shows at most 64 bytes of each id. A server answering with a new
// id of a megabyte each call made two such ids a log line, every call.
func TestLongInstanceIDLoggedCut(t *testing.T) {
	var logs syncBuffer
	var l listener
	stop := serveOn(t, &l, newModelServer(t, modelserver.Config{}, modelserver.WithInstanceID(strings.Repeat("a", 1<<20))))
	conn := bufConn(t, &l, grpc.WithDefaultCallOptions(grpc.WaitForReady(true)))
	c := newClient(t, conn, oip.Config{}, oip.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	for i, id := range []string{strings.Repeat("a", 1<<20), strings.Repeat("b", 1<<20)} {
		if i > 0 {
			stop()
			stop = serveOn(t, &l, newModelServer(t, modelserver.Config{}, modelserver.WithInstanceID(id)))
		}
		in := []detector.Group{{SeriesID: "s", UnixNanos: []int64{int64(i)}, Values: []float64{1}}}
		if err := c.Predict(t.Context(), in, make([]detector.Prediction, 1)); err != nil {
			t.Fatalf("Predict() = %v", err)
		}
		if got := c.InstanceID(); got != id {
			t.Errorf("InstanceID() has %d bytes, want the whole id, %d", len(got), len(id))
		}
	}
	if c.Restarts() != 1 {
		t.Errorf("Restarts() = %d, want 1", c.Restarts())
	}
	seen := 0
	for line := range strings.Lines(logs.String()) {
		if !strings.Contains(line, "instance_id") {
			continue
		}
		seen++
		if len(line) > 512 {
			t.Errorf("log line of %d bytes (%.100q...), want each id cut to 64 bytes", len(line), line)
		}
	}
	if seen != 2 {
		t.Errorf("%d log lines name an instance_id, want 2 (seen, restarted):\n%s", seen, logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
