//go:build unix

package servicetest

import "syscall"

var interruptSignal = syscall.SIGTERM
