// Package smallfile reads the small files an operator points the service
// at (the config file, TLS certificates and keys, token files) without
// trusting what the path names. A FIFO would block the reader for ever and
// a device such as /dev/zero would be read until memory runs out, so the
// file is opened without blocking, must be a regular file, and is read
// with a size cap. Symbolic links are followed: mounted Kubernetes
// ConfigMaps and Secrets are links. (Snapshots, which the service also
// writes, have their own stricter rules in package checkpoint.)
//
// This package has no API stability promise.
package smallfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrNotRegular and ErrTooLarge are wrapped by Read's errors.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
)

// Open opens the regular file at path for reading, refusing anything
// else (a FIFO, a device, a directory) without blocking. The caller
// closes the file. For files of any size that the caller reads as a
// stream; Read reads a small one whole.
func Open(path string) (*os.File, os.FileInfo, error) {
	// O_NONBLOCK makes opening a FIFO return at once; reads of a regular
	// file are unaffected.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, st.Mode().Type())
	}
	return f, st, nil
}

// Read returns the contents of the regular file at path, refusing a file
// of more than max bytes.
func Read(path string, max int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, at most %d", path, ErrTooLarge, st.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max { // grew while being read
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, max)
	}
	return data, nil
}
