package spaceeval

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// TestLoadMetaRefusesNonRegularFiles: a meta.json that is a FIFO, a device
// or a directory is refused by name (package smallfile), not waited on for
// ever or read until memory runs out (/dev/zero).
func TestLoadMetaRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadMeta(dir); !errors.Is(err, smallfile.ErrNotRegular) {
		t.Errorf("LoadMeta(a directory) = %v, want ErrNotRegular", err)
	}
	fifo := filepath.Join(dir, "meta.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero"} {
		if _, err := LoadMeta(p); !errors.Is(err, smallfile.ErrNotRegular) {
			t.Errorf("LoadMeta(%s) = %v, want ErrNotRegular", p, err)
		}
	}
}
