// Package httpserver makes the HTTP servers of both binaries (metrics,
// health, the breaker page, reload, profiling) with the same bounds on what
// a client can hold: 5s to send its headers, at most 64 KiB of them (as
// the gRPC side's metadata; Go's default is 1 MiB), and keep-alive
// connections closed after two idle minutes (Go's default keeps an idle
// connection, and its file descriptor, forever). No write timeout: the
// breaker page's event stream and a CPU profile answer for as long as
// they run.
package httpserver

import (
	"log"
	"net/http"
	"time"
)

// Bounds of every server New makes.
const (
	ReadHeaderTimeout = 5 * time.Second
	MaxHeaderBytes    = 64 << 10
	IdleTimeout       = 2 * time.Minute
)

// New returns a server for h that logs its errors to errorLog.
func New(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          errorLog,
	}
}
