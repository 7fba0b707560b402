package tlsconf

import (
	"crypto/tls"
	"time"
)

// ServerAt is Server with the clock that times its reload checks.
func ServerAt(f ServerFiles, now func() time.Time, opts ...Option) (*tls.Config, error) {
	return Server(f, append(opts, withClock(now))...)
}
