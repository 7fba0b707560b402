//go:build !unix

package checkpoint

import (
	"io/fs"
	"os"
)

// openNoFollow opens path read-only unless it is a symbolic link. Systems
// without O_NOFOLLOW get the check from Lstat, which a rename between the
// two calls could defeat; openRegular still checks the opened file's type.
func openNoFollow(path string) (*os.File, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrInvalid}
	}
	return os.Open(path)
}
