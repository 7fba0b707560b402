// Package connlimit bounds the connections a listener holds open at once
// and counts them. gRPC and net/http accept without limit, and every
// connection costs its buffers and goroutines whether or not it ever sends
// a request (the breaker page's event streams hold theirs for good). At the
// limit a listener stops accepting (x/net's netutil.LimitListener): new
// connections wait in the kernel's backlog, and the clients already
// connected keep being served.
package connlimit

import (
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"
)

// Limits bounds every listener it wraps at the same number of connections
// and counts each listener's in astraguard_open_connections{listener}.
type Limits struct {
	max  int
	open *prometheus.GaugeVec // by listener
}

// New returns Limits of max connections per listener, registering the
// gauge with reg unless reg is nil.
func New(max int, reg prometheus.Registerer) (*Limits, error) {
	l := &Limits{max: max, open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "astraguard_open_connections",
		Help: "Connections a listener holds open, at most --max-connections each.",
	}, []string{"listener"})}
	if reg != nil {
		if err := reg.Register(l.open); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Wrap bounds lis and counts its open connections as listener name.
func (l *Limits) Wrap(lis net.Listener, name string) net.Listener {
	return &countedListener{Listener: netutil.LimitListener(lis, l.max), open: l.open.WithLabelValues(name)}
}

// Open returns how many connections the listener named name holds open.
func (l *Limits) Open(name string) prometheus.Gauge { return l.open.WithLabelValues(name) }

type countedListener struct {
	net.Listener
	open prometheus.Gauge
}

func (l *countedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Inc()
	return &countedConn{Conn: c, open: l.open}, nil
}

// countedConn gives its count back on the first Close; a server may close
// a connection more than once.
type countedConn struct {
	net.Conn
	open prometheus.Gauge
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(c.open.Dec)
	return c.Conn.Close()
}
