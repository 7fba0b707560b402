package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// writeAtomic writes a snapshot to path through a temporary file in the
// same directory: write, fsync, rename, fsync the directory. On any error
// the temporary file is removed and path is untouched. It returns the
// snapshot's size in bytes.
func writeAtomic(path, sig string, created time.Time, fill func(*Writer) error) (n int64, err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tmpSuffix)
	if err != nil {
		return 0, fmt.Errorf("create snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	w := newWriter(f, sig, created)
	if err := fill(w); err != nil {
		return 0, err
	}
	if err := w.finish(); err != nil {
		return 0, fmt.Errorf("write snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("close snapshot: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return 0, fmt.Errorf("rename snapshot: %w", err)
	}
	// The rename is durable only once the directory entry is.
	if err := syncDir(dir); err != nil {
		return w.n, fmt.Errorf("sync snapshot directory: %w", err)
	}
	return w.n, nil
}

// tmpSuffix marks temporary snapshot files; os.CreateTemp replaces the *.
const tmpSuffix = ".tmp-*"

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// readSnapshot reads and verifies the snapshot at path. A missing file
// returns an error matching fs.ErrNotExist; any other failure is a
// *LoadError.
func readSnapshot(path, sig string) (*snapshot, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, &LoadError{Reason: ReasonUnreadable, Err: err}
	}
	return parse(data, sig)
}

// setAside renames a refused snapshot to path.<reason>-<UTC time>, so it
// is kept for inspection and the next checkpoint does not overwrite it.
func setAside(path, reason string, now time.Time) (string, error) {
	aside := fmt.Sprintf("%s.%s-%s", path, reason, now.UTC().Format("20060102T150405.000000000Z"))
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("set snapshot aside: %w", err)
	}
	return aside, syncDir(filepath.Dir(path))
}

// removeTemps deletes temporary files a crash left behind mid-write.
func removeTemps(path string) error {
	names, err := filepath.Glob(path + tmpSuffix)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, os.Remove(n))
	}
	return errors.Join(errs...)
}
