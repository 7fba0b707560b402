package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
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

// limits bound what readSnapshot accepts: maxBytes the file's size (0:
// unbounded), bounds each named section's records.
type limits struct {
	maxBytes int64
	bounds   map[string]Bounds
}

// readSnapshot reads and verifies the snapshot at path. It opens only a
// regular file (never through a symbolic link, and without blocking on a
// FIFO), checks the header before reading on, and refuses a file larger
// than lim.maxBytes unread. A missing file returns an error matching
// fs.ErrNotExist; any other failure is a *LoadError.
func readSnapshot(path, sig string, lim limits) (*snapshot, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return nil, &LoadError{Reason: ReasonUnreadable, Err: err}
	}
	head := make([]byte, headerBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, &LoadError{Reason: ReasonUnreadable, Err: err}
	}
	if err := checkHeader(head[:n]); err != nil {
		return nil, err
	}
	size, capBytes := info.Size(), lim.maxBytes
	if capBytes <= 0 {
		capBytes = math.MaxInt64 - 1
	}
	if size > capBytes {
		e := refuse(ReasonOversized, "%d bytes, more than the %d its bounds allow", size, capBytes)
		e.readerBound = true
		return nil, e
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+1))
	buf.Write(head)
	// The file may have grown since Stat: read one byte past the cap to see.
	if _, err := buf.ReadFrom(io.LimitReader(f, capBytes-int64(n)+1)); err != nil {
		return nil, &LoadError{Reason: ReasonUnreadable, Err: err}
	}
	if int64(buf.Len()) > capBytes {
		e := refuse(ReasonOversized, "more than the %d bytes its bounds allow", capBytes)
		e.readerBound = true
		return nil, e
	}
	return parse(buf.Bytes(), sig, lim.bounds)
}

// openRegular opens path for reading if it is a regular file. A symbolic
// link, FIFO, device, socket or directory is refused with
// ReasonNotRegular; the open cannot block (see openNoFollow).
func openRegular(path string) (*os.File, error) {
	f, err := openNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		if info, lerr := os.Lstat(path); lerr == nil && !info.Mode().IsRegular() {
			return nil, refuse(ReasonNotRegular, "%s is a %s, not a regular file", filepath.Base(path), fileKind(info.Mode()))
		}
		return nil, &LoadError{Reason: ReasonUnreadable, Err: err}
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, &LoadError{Reason: ReasonUnreadable, Err: err}
	}
	if !info.Mode().IsRegular() {
		_ = f.Close()
		return nil, refuse(ReasonNotRegular, "%s is a %s, not a regular file", filepath.Base(path), fileKind(info.Mode()))
	}
	return f, nil
}

// fileKind names a file type for a log line.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	}
	return "special file"
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
