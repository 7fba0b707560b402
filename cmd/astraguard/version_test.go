package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astraguard/astraguard/internal/version"
)

// TestVersionFlag: --version wins over everything else on the line, even
// flags that would fail validation, so an operator can always ask.
func TestVersionFlag(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	for _, args := range [][]string{{"--version"}, {"--model-timeout=-1s", "-version"}} {
		if _, err := parseConfig(args, noEnv, io.Discard); !errors.Is(err, version.ErrRequested) {
			t.Errorf("parseConfig(%q) error = %v, want version.ErrRequested", args, err)
		}
	}
}

// TestVersionBinary builds the real binary with VCS stamping and checks
// --version prints the checkout's commit.
func TestVersionBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse --show-toplevel: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a git worktree (.git is a file): the go command stamps VCS information only in a main checkout")
	}
	bin := filepath.Join(t.TempDir(), "astraguard")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("astraguard --version: %v", err)
	}
	got := string(out)
	if !strings.HasPrefix(got, "astraguard ") || !strings.Contains(got, strings.TrimSpace(string(head))) || !strings.Contains(got, " go1.") {
		t.Errorf("astraguard --version = %q, want the name, revision %s and Go version", got, head)
	}
}
