package report

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// TestLoadLabelsRefusesWhatIsNotASmallFile: agctl replay --labels reads
// its file as every file an operator names is read (package smallfile):
// a file over MaxLabelsBytes, a directory, a FIFO or a device is refused
// by name. It read whole whatever the path named: --labels /dev/zero ran
// agctl out of memory, and a FIFO blocked it for ever, past SIGTERM.
func TestLoadLabelsRefusesWhatIsNotASmallFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("oversized", func(t *testing.T) {
		big := filepath.Join(dir, "big.json")
		if err := os.WriteFile(big, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(big, MaxLabelsBytes+1); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadLabels(big); !errors.Is(err, smallfile.ErrTooLarge) {
			t.Errorf("LoadLabels(%d bytes) = %v, want ErrTooLarge", MaxLabelsBytes+1, err)
		}
	})
	t.Run("not regular", func(t *testing.T) {
		fifo := filepath.Join(dir, "fifo.json")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{dir, "/dev/zero", fifo} {
			if _, err := LoadLabels(p); !errors.Is(err, smallfile.ErrNotRegular) {
				t.Errorf("LoadLabels(%s) = %v, want ErrNotRegular", p, err)
			}
		}
	})
}
