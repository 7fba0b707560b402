// Package connlimit bounds the connections a listener holds open at once,
// in all and per client, and counts them. gRPC and net/http accept without
// limit, and every connection costs its buffers and goroutines whether or
// not it ever sends a request (the breaker page's event streams hold
// theirs for good).
//
// At the total limit a listener stops accepting (x/net's
// netutil.LimitListener): new connections wait in the kernel's backlog,
// and the clients already connected keep being served. So that one client
// cannot hold every place (idle connections cost it nothing), a remote
// address may hold at most Config.PerClient of them: a connection beyond
// its share is closed as soon as it is accepted and counted as refused,
// and the rest of the limit stays open to other clients, health checks
// and scrapes included. Clients are told apart by AddrKey: the IP, an
// IPv6 client by its /64.
//
// What it does not do: it bounds no rate (a client may reconnect as fast
// as it likes; each refused connection costs an accept and a close), and
// many clients together may still fill the total, for which the
// servers' handshake timeout (DefaultHandshakeTimeout) and connection idle
// bound (DefaultMaxConnectionIdle, which both binaries give gRPC as
// keepalive.ServerParameters.MaxConnectionIdle) are the bound.
//
// Within connections, GRPCTransport bounds a connection's streams and
// windows, and StreamInterceptor the streams of methods without a budget
// of their own (health Watch, reflection) in all and per client.
//
// Limits and the listeners it wraps are safe for concurrent use.
package connlimit

import (
	"cmp"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"
)

// Config bounds every listener Limits wraps. The zero value works.
type Config struct {
	// Max bounds the connections each listener holds open at once.
	// Default 10,000.
	Max int
	// PerClient bounds those of one client (AddrKey of the remote
	// address) on each listener. Default DefaultPerClient(Max).
	PerClient int
}

// DefaultMax is the default of Config.Max.
const DefaultMax = 10_000

// Defaults both binaries give their gRPC listeners (astraguard as the
// defaults of its flags, through server.DefaultConfig), stated once here.
const (
	// DefaultHandshakeTimeout closes a connection that has not finished
	// its TLS and HTTP/2 setup by then (gRPC's own is 120s), so
	// connections that connect and stall are gone in seconds.
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultMaxHeaderListBytes bounds a call's metadata, as Envoy's
	// request headers limit does (gRPC's own is 16 MiB per stream).
	DefaultMaxHeaderListBytes = 64 << 10
	// DefaultKeepaliveMinTime closes a connection whose client pings more
	// often than this (GOAWAY too_many_pings).
	DefaultKeepaliveMinTime = 10 * time.Second
	// DefaultGracePeriod is how long a shutdown lets in-flight calls and
	// open streams finish (GracefulStop) before it cuts them (Stop): the
	// default of both binaries' --grace-period.
	DefaultGracePeriod = 10 * time.Second
	// DefaultMaxConnectionIdle closes a gRPC connection with no call in
	// flight for this long (keepalive.ServerParameters.MaxConnectionIdle:
	// GOAWAY, and the client reconnects when it next calls), so idle
	// connections from many clients, each within its share, cannot hold
	// Max for good. Five minutes: far longer than the gaps between a live
	// client's calls (detector/oip and agctl call far more often), short
	// enough that a full listener frees within minutes.
	DefaultMaxConnectionIdle = 5 * time.Minute
	// MinKeepalive is the shortest keepalive time, keepalive timeout,
	// client ping interval and connection idle bound either binary
	// accepts: gRPC raises a shorter keepalive time to 1s itself, and
	// shorter values only make the keepalive loop ping, or cut, live
	// connections.
	MinKeepalive = time.Second
)

// DefaultPerClient is the default of Config.PerClient: a quarter of max,
// at least 1. One client then leaves three quarters of a listener to the
// others, and takes four to fill it; a client that needs more (many users
// behind one NAT or proxy address) is given its share explicitly.
func DefaultPerClient(total int) int { return max(1, total/4) }

// Validate reports a negative bound.
func (c Config) Validate() error {
	if c.Max < 0 || c.PerClient < 0 {
		return errors.New("connection limits must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.Max = cmp.Or(c.Max, DefaultMax)
	c.PerClient = min(cmp.Or(c.PerClient, DefaultPerClient(c.Max)), c.Max)
	return c
}

// Option configures Limits.
type Option func(*Limits)

// WithRegisterer registers astraguard_open_connections{listener}; the
// default nil registers nothing.
func WithRegisterer(reg prometheus.Registerer) Option { return func(l *Limits) { l.reg = reg } }

// WithRefusals counts each connection refused beyond its client's share
// in c, e.g. astraguard_limit_rejections_total{limit="connections"}.
func WithRefusals(c prometheus.Counter) Option { return func(l *Limits) { l.refused = c } }

// Limits bounds every listener it wraps at the same numbers of
// connections and counts each listener's in
// astraguard_open_connections{listener}.
type Limits struct {
	cfg     Config
	reg     prometheus.Registerer
	open    *prometheus.GaugeVec // by listener
	refused prometheus.Counter   // nil: not counted
}

// New returns Limits of cfg, with its defaults filled in.
func New(cfg Config, opts ...Option) (*Limits, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Limits{cfg: cfg.withDefaults(), open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "astraguard_open_connections",
		Help: "Connections a listener holds open, at most --max-connections each.",
	}, []string{"listener"})}
	for _, o := range opts {
		o(l)
	}
	if l.reg != nil {
		if err := l.reg.Register(l.open); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Config returns the bounds in force, defaults filled in.
func (l *Limits) Config() Config { return l.cfg }

// Wrap bounds lis and counts its open connections as listener name.
func (l *Limits) Wrap(lis net.Listener, name string) net.Listener {
	return &countedListener{
		Listener: netutil.LimitListener(lis, l.cfg.Max),
		open:     l.open.WithLabelValues(name),
		refused:  l.refused,
		share:    l.cfg.PerClient,
		max:      l.cfg.Max,
		clients:  map[string]int{},
	}
}

// Open returns how many connections the listener named name holds open.
func (l *Limits) Open(name string) prometheus.Gauge { return l.open.WithLabelValues(name) }

// AddrKey is the client a remote address "host:port" belongs to: the IP,
// an IPv6 address by its /64 (one host usually holds a whole /64); an
// address that is not host:port (a unix socket, an in-memory pipe) as it
// is.
func AddrKey(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip.WithZone(""), 64).Masked().String()
}

type countedListener struct {
	net.Listener
	open    prometheus.Gauge
	refused prometheus.Counter // nil: not counted
	share   int
	max     int
	idle    *idleSet // nil unless DrainIdle

	mu      sync.Mutex
	clients map[string]int // open connections by AddrKey; guarded by mu
	total   int            // open connections; guarded by mu
}

// Accept returns the next connection whose client is within its share,
// closing those beyond it.
func (l *countedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := AddrKey(c.RemoteAddr().String())
		ok, full := l.take(key)
		if !ok {
			if l.refused != nil {
				l.refused.Inc()
			}
			_ = c.Close() // gives its place under Max back
			continue
		}
		l.open.Inc()
		if full && l.idle != nil {
			l.idle.closeOldest()
		}
		return &countedConn{Conn: c, l: l, key: key}, nil
	}
}

// take counts a connection of client key if it is within its share, and
// reports whether the listener is full with it.
func (l *countedListener) take(key string) (ok, full bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients[key] >= l.share {
		return false, false
	}
	l.clients[key]++
	l.total++
	return true, l.total >= l.max
}

func (l *countedListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients[key]--; l.clients[key] <= 0 {
		delete(l.clients, key)
	}
	l.total--
}

func (l *countedListener) full() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total >= l.max
}

// countedConn gives its count back on the first Close; a server may close
// a connection more than once.
type countedConn struct {
	net.Conn
	l    *countedListener
	key  string
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.open.Dec()
		c.l.release(c.key)
	})
	return c.Conn.Close()
}
