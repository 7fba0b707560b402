package server

import (
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"
)

// connLimits bounds the connections each listener holds open at once
// (Config.MaxConnections). gRPC accepts without limit, and every connection
// costs its buffers and goroutines whether or not it ever sends a call.
// At the limit the listener stops accepting: new connections wait in the
// kernel's backlog, and the clients already connected keep being served.
type connLimits struct {
	max  int
	open *prometheus.GaugeVec // by listener
}

func newConnLimits(max int, reg prometheus.Registerer) (*connLimits, error) {
	l := &connLimits{max: max, open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "astraguard_grpc_connections",
		Help: "Connections a gRPC listener (grpc, admin) holds open, at most --max-connections each.",
	}, []string{"listener"})}
	l.open.WithLabelValues("grpc") // reported as 0 before the first connection
	if reg != nil {
		if err := reg.Register(l.open); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// wrap limits lis and counts its open connections under name.
func (l *connLimits) wrap(lis net.Listener, name string) net.Listener {
	return &countedListener{Listener: netutil.LimitListener(lis, l.max), open: l.open.WithLabelValues(name)}
}

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

// countedConn gives its count back on the first Close; gRPC may close a
// connection more than once.
type countedConn struct {
	net.Conn
	open prometheus.Gauge
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(c.open.Dec)
	return c.Conn.Close()
}
