package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/checkpoint"
)

// startLogged runs the real wiring on loopback with args added until the
// test ends, then checks that it shut down cleanly (cancelling its context
// is what SIGTERM does). It returns the addresses and the logs.
func startLogged(t *testing.T, args ...string) (servingLine, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrs, done := startRun(t, ctx, logs, append([]string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0",
		"--grace-period=1s", "--log-format=json"}, args...)...)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run() = %v after shutdown", err)
		}
	})
	return addrs, logs
}

// asideFiles returns the names in dir that start with prefix and are not
// prefix itself: the set-aside copies of a refused file.
func asideFiles(t *testing.T, dir, prefix string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix+".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestStateSnapshotNotRegularFile: a --state-dir snapshot that is a
// symbolic link to /dev/zero or a FIFO neither exhausts memory nor blocks
// start: the service serves, refuses the file as not_regular, sets it
// aside and shuts down cleanly.
func TestStateSnapshotNotRegularFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
	}{
		{"symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, snapshotFile)
			if err := tc.make(path); err != nil {
				t.Skipf("cannot make the file: %v", err)
			}
			// Should a reader block on the FIFO (the bug), give it an EOF
			// once the test has failed, so the test ends.
			t.Cleanup(func() {
				if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					_ = f.Close()
				}
			})
			addrs, logs := startLogged(t, "--state-dir="+dir)
			if resp, err := http.Get("http://" + addrs.HTTP + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz = %v, %v; want 200", resp, err)
			} else {
				_ = resp.Body.Close()
			}
			body := httpGet(t, "http://"+addrs.HTTP+"/metrics")
			if v := metric(t, body, `astraguard_state_restore_errors_total{reason="not_regular"}`); v != 1 {
				t.Errorf("restore errors (not_regular) = %v, want 1; logs:\n%s", v, logs.String())
			}
			if aside := asideFiles(t, dir, snapshotFile); len(aside) != 1 || !strings.Contains(aside[0], "not_regular") {
				t.Errorf("set aside: %q, want one %s.not_regular-<time>", aside, snapshotFile)
			}
		})
	}
}

// snapRecord is one record of a snapshot section.
type snapRecord struct {
	id    string
	value []byte
}

// recordsPart writes fixed records as a checkpoint section.
type recordsPart []snapRecord

func (p recordsPart) SaveState(w *checkpoint.Writer) error {
	for _, r := range p {
		if err := w.Record(r.id, r.value); err != nil {
			return err
		}
	}
	return nil
}

func (p recordsPart) LoadState(*checkpoint.Section) (func(), error) { return func() {}, nil }

// writeHandover writes recs as the series section of dir/name under sig,
// as a replica's handover file.
func writeHandover(t *testing.T, dir, name, sig string, recs []snapRecord) {
	t.Helper()
	k, err := checkpoint.New(dir, name, sig)
	if err != nil {
		t.Fatal(err)
	}
	k.Add("series", recordsPart(recs))
	if err := k.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// drainedReplica runs a replica "a" over its own handover directory, sends
// n warm-enough series to it and drains it; it returns the signature and
// records of the file it handed over, the service's real ones.
func drainedReplica(t *testing.T, n int) (sig string, recs []snapRecord) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	addrs, done := startRun(t, ctx, &syncBuffer{}, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0",
		"--grace-period=1s", "--handover-dir="+dir, "--replica-name=a")
	detect(t, addrs.GRPC, "s", n)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run() = %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "a.snap"))
	if err != nil {
		t.Fatal(err)
	}
	return parseSnap(t, data)
}

// detect sends one DetectBatch of series prefix0..prefix<n-1>, 20 samples
// each, and returns the verdicts.
func detect(t *testing.T, addr, prefix string, n int) []*astraguardv1.Verdict {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := &astraguardv1.DetectBatchRequest{}
	for i := range n {
		vals := make([]float64, 20)
		for j := range vals {
			vals[j] = float64(j % 3)
		}
		req.Series = append(req.Series, &astraguardv1.SeriesSamples{SeriesId: fmt.Sprintf("%s%d", prefix, i), Values: vals})
	}
	resp, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(t.Context(), req)
	if err != nil {
		t.Fatalf("DetectBatch() = %v", err)
	}
	return resp.GetVerdicts()
}

// parseSnap reads the signature and the one section's records of a
// snapshot (see the checkpoint package's format), trusting the file.
func parseSnap(t *testing.T, b []byte) (string, []snapRecord) {
	t.Helper()
	field := func() []byte {
		n, k := binary.Uvarint(b)
		f := b[k : k+int(n)]
		b = b[k+int(n):]
		return f
	}
	b = b[8+4+8:]
	sig := string(field())
	var recs []snapRecord
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		switch tag {
		case 'S':
			field()
		case 'R':
			recs = append(recs, snapRecord{string(field()), field()})
		default:
			return sig, recs
		}
	}
	t.Fatal("no end frame")
	return "", nil
}
