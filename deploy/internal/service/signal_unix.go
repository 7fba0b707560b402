//go:build unix

package service

import "syscall"

var interruptSignal = syscall.SIGTERM
