package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// TestReplayNothingListening: against an address where nothing listens,
// replay fails at the reachability check (before any stream opens) with a
// message naming the address and the refusal, and writes nothing.
func TestReplayNothingListening(t *testing.T) {
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "results")
	writeInput(t, data, "a.csv", 10)
	addr := closedAddr(t)
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	err := c.run(t.Context(), []string{"replay", "--addr", addr, "--data", data, "--out", out})
	if !errors.Is(err, errUnreachable) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("replay against %s = %v, want errUnreachable naming the address and the refusal", addr, err)
	}
	if exitCodeOf(err) != 1 {
		t.Errorf("exit code %d, want 1", exitCodeOf(err))
	}
	if _, err := os.Stat(filepath.Join(out, "a.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output written: %v", err)
	}
}

// TestReplayOneReplicaDown: with one replica of two down, replay warns
// about it and still answers every row through the other.
func TestReplayOneReplicaDown(t *testing.T) {
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "results")
	writeInput(t, data, "a.csv", 20)
	up, _ := listenReplica(t)
	down := closedAddr(t)
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	if err := c.run(t.Context(), []string{"replay", "--addr", down + "," + up, "--data", data, "--out", out, "--allow-errors"}); err != nil {
		t.Fatalf("replay = %v; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), down) {
		t.Errorf("stderr %q does not name the replica that is down (%s)", stderr.String(), down)
	}
	if got := readLines(t, filepath.Join(out, "a.csv")); len(got) != 21 {
		t.Errorf("output has %d lines, want header + 20", len(got))
	}
}
