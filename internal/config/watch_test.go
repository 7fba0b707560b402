package config_test

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/config"
)

// startWatch runs a Watcher on path until the test ends and returns the
// channel its Reload calls arrive on.
func startWatch(t *testing.T, path string, sig chan os.Signal) <-chan string {
	t.Helper()
	data, _ := os.ReadFile(path)
	got := make(chan string, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	w := config.Watcher{Path: path, Digest: sha256.Sum256(data), Signals: sig, Reload: func(tr string, _ []byte) { got <- tr }}
	wt, err := w.Start()
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- wt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	return got
}

func waitFor(t *testing.T, got <-chan string, want string) {
	t.Helper()
	select {
	case tr := <-got:
		if tr != want {
			t.Fatalf("Reload(%q), want %q", tr, want)
		}
	case <-time.After(10 * time.Second): // a bound so a broken watch fails instead of hanging, not a timing assertion
		t.Fatalf("no Reload(%q)", want)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWatchFileWriteAndRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "astraguard.yaml")
	write(t, path, "grpc_addr: a\n")
	sig := make(chan os.Signal, 1)
	got := startWatch(t, path, sig)

	write(t, path, "grpc_addr: b\n")
	waitFor(t, got, "file")

	tmp := filepath.Join(dir, ".astraguard.yaml.swp")
	write(t, tmp, "grpc_addr: c\n")
	if err := os.Rename(tmp, path); err != nil { // how editors save
		t.Fatal(err)
	}
	waitFor(t, got, "file")

	// Rewriting the same content reloads nothing: the next Reload seen is
	// the signal's.
	write(t, path, "grpc_addr: c\n")
	sig <- os.Interrupt
	waitFor(t, got, "signal")
}

// TestWatchConfigMapSymlinkSwap replays how the kubelet updates a
// ConfigMap volume: the file is a link through ..data to a timestamped
// directory, and an update writes a new directory, points ..data_tmp at
// it and renames ..data_tmp over ..data.
func TestWatchConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name, "astraguard.yaml"), content)
	}
	mk("..2026_11_29_21_00_00.1", "grpc_addr: a\n")
	if err := os.Symlink("..2026_11_29_21_00_00.1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "astraguard.yaml")
	if err := os.Symlink("..data/astraguard.yaml", path); err != nil {
		t.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	got := startWatch(t, path, sig)

	mk("..2026_11_29_21_05_00.2", "grpc_addr: b\n")
	if err := os.Symlink("..2026_11_29_21_05_00.2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..2026_11_29_21_00_00.1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, got, "file")
}
