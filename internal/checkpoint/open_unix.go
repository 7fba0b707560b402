//go:build unix

package checkpoint

import (
	"os"
	"syscall"
)

// openNoFollow opens path read-only without following a symbolic link in
// its last element (the open fails instead) and without blocking: opening
// a FIFO with no writer returns at once, and openRegular then refuses it
// by its type. Reads of a regular file are unaffected by O_NONBLOCK.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
