package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	_ "google.golang.org/grpc/balancer/ringhash" // registers ring_hash_experimental
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/protolimit"
)

// MaxDecodedResponseBytes bounds what one response may take decoded (64
// MiB, sixteen times gRPC's default 4 MiB receive limit), estimated from
// the wire before decoding; a larger one fails its stream like a message
// that does not decode. The largest response the service sends (4 MiB of
// verdicts, some 28,000) estimates under 18 MiB.
const MaxDecodedResponseBytes = 64 << 20

// HashHeader is the request metadata key the ring hashes: every Detect
// stream carries its partition key there (see EncodeKey).
const HashHeader = "astraguard-partition-key"

// ServiceConfig selects gRPC's ring_hash policy on HashHeader. grpc-go
// registers the policy as "ring_hash_experimental" (the package
// google.golang.org/grpc/balancer/ringhash); other gRPC languages name it
// "ring_hash_experimental" too.
const ServiceConfig = `{"loadBalancingConfig":[{"ring_hash_experimental":{"requestHashHeader":"` + HashHeader + `"}}]}`

// ErrClosed completes calls still pending when Close is called, and is
// returned by Go after Close.
var ErrClosed = errors.New("client closed")

// ErrDuplicateID is returned by Go for a request whose id is already
// pending on its partition: responses are matched by id.
var ErrDuplicateID = errors.New("request id already pending")

// Client sends Detect requests over one stream per partition key, on the
// replica gRPC's ring_hash picks for the key; see the package comment.
type Client struct {
	cc     *grpc.ClientConn
	api    astraguardv1.DetectorServiceClient
	static *manual.Resolver // nil unless made from an address list
	cfg    Config
	opt    options
	log    *slog.Logger
	m      *metrics
	closed chan struct{}
	wg     sync.WaitGroup // partition goroutines
	ids    atomic.Uint64  // request ids the client assigns

	mu    sync.Mutex
	parts map[string]*partition // guarded by mu
	done  bool                  // guarded by mu; Close was called
}

// New returns a client for target: "dns:///host:port" (a Kubernetes
// headless service name, say, which resolves to every replica), a
// comma-separated list of host:port addresses, or any other gRPC target
// whose scheme has a registered resolver (passthrough:///, unix:///). Like grpc.NewClient it
// connects lazily and never blocks. The connection is plaintext unless
// WithDialOptions sets transport credentials.
func New(target string, cfg Config, opts ...Option) (*Client, error) {
	c := &Client{cfg: cfg.withDefaults(), closed: make(chan struct{}), parts: map[string]*partition{}}
	c.opt = options{key: SeriesKey, retryable: Retryable}
	for _, o := range opts {
		o(&c.opt)
	}
	c.log = cmpLogger(c.opt.logger)
	c.m = newMetrics(c.opt.reg)
	var (
		b        resolver.Builder
		dialAddr string
		interval = c.cfg.ResolveInterval
	)
	if scheme, _, ok := strings.Cut(target, "://"); ok {
		if b = resolver.Get(scheme); b == nil {
			return nil, fmt.Errorf("new client: target %q: no resolver for scheme %q (want dns:///host:port or host:port[,host:port...])", target, scheme)
		}
		dialAddr = target
	} else {
		state, err := stateOf(strings.Split(target, ","))
		if err != nil {
			return nil, fmt.Errorf("new client: %w", err)
		}
		c.static = manual.NewBuilderWithScheme("astraguard-static")
		c.static.InitialState(state)
		b, dialAddr, interval = c.static, "astraguard-static:///"+target, 0
	}
	wb := &watchBuilder{Builder: b, interval: interval, changed: func(removed []string) {
		c.m.forget(removed)
		c.rebalance()
	}}
	cc, err := grpc.NewClient(dialAddr, append([]grpc.DialOption{
		grpc.WithResolvers(wb),
		grpc.WithDefaultServiceConfig(ServiceConfig),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: c.cfg.KeepaliveTime, Timeout: c.cfg.KeepaliveTimeout}),
		// A response's decoded size is bounded, not only its 4 MiB: an
		// empty verdict is two wire bytes and some 150 decoded, so a broken
		// or hostile replica's response could take 300 MB.
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(protolimit.Codec(MaxDecodedResponseBytes))),
	}, c.opt.dialOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("new client: %w", err)
	}
	c.cc, c.api = cc, astraguardv1.NewDetectorServiceClient(cc)
	return c, nil
}

func cmpLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func stateOf(addrs []string) (resolver.State, error) {
	var s resolver.State
	if len(addrs) == 0 {
		return s, errors.New("no address")
	}
	for _, a := range addrs {
		if a == "" || strings.ContainsAny(a, ", /") {
			return s, fmt.Errorf("bad address %q: want host:port", a)
		}
		s.Endpoints = append(s.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: a}}})
	}
	return s, nil
}

// SetAddrs replaces the replica list of a client made from an address
// list. Streams then move gracefully to the replica the new ring picks
// for their key: about 1/N of them for one replica added to N-1.
func (c *Client) SetAddrs(addrs []string) error {
	if c.static == nil {
		return errors.New("set addrs: the client was not made from an address list")
	}
	state, err := stateOf(addrs)
	if err != nil {
		return fmt.Errorf("set addrs: %w", err)
	}
	c.static.UpdateState(state)
	return nil
}

// Conn returns the client's connection, for other services of the same
// replicas (health, BreakerAdmin). Its RPCs carry no partition key, so
// the ring sends each to a random ready replica.
func (c *Client) Conn() *grpc.ClientConn { return c.cc }

// Call is one request in flight, completed when Done receives it.
type Call struct {
	Request  *astraguardv1.DetectRequest
	Response *astraguardv1.DetectResponse // set when Err is nil
	Err      error
	Replica  string     // address of the replica that answered
	Done     chan *Call // receives the call once complete

	sends   int // times sent; guarded by its partition's mu
	samples int
}

// Go hands req to the stream of its partition key and returns at once
// unless that partition already has Config.MaxPending requests pending, in
// which case it waits for room or for ctx. ctx bounds only that wait: once
// Go returns, the call stays pending until it is answered, its partition
// gives up, or Close. An empty req.RequestId is set to a client-unique id;
// a set one must not be pending already on the same key. req must not be
// modified until the call is done.
//
// done receives the call once complete; it must have room for every call
// in flight on it (Go panics on an unbuffered channel, as net/rpc does),
// since a full channel holds up the partition's stream. nil allocates one.
func (c *Client) Go(ctx context.Context, req *astraguardv1.DetectRequest, done chan *Call) (*Call, error) {
	if done == nil {
		done = make(chan *Call, 1)
	} else if cap(done) == 0 {
		panic("client: unbuffered done channel")
	}
	key, err := c.opt.key(req)
	if err != nil {
		return nil, fmt.Errorf("partition key of request %q: %w", req.GetRequestId(), err)
	}
	if req.RequestId == "" {
		req.RequestId = "agc-" + strconv.FormatUint(c.ids.Add(1), 10)
	}
	call := &Call{Request: req, Done: done, samples: samplesOf(req)}
	p, err := c.acquire(key)
	if err != nil {
		return nil, err
	}
	defer c.release(p)
	if err := p.enqueue(ctx, call); err != nil {
		return nil, err
	}
	return call, nil
}

// Detect sends req and waits for its response or ctx. When ctx ends first
// the request stays pending, and its response is dropped when it comes.
func (c *Client) Detect(ctx context.Context, req *astraguardv1.DetectRequest) (*astraguardv1.DetectResponse, error) {
	call, err := c.Go(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	select {
	case <-call.Done:
		return call.Response, call.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// acquire returns the partition of key, started if new, and keeps it
// from retiring until release.
func (c *Client) acquire(key string) (*partition, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return nil, ErrClosed
	}
	p := c.parts[key]
	if p == nil {
		p = newPartition(c, key)
		c.parts[key] = p
		c.wg.Go(p.run)
	}
	p.users++
	return p, nil
}

func (c *Client) release(p *partition) {
	c.mu.Lock()
	p.users--
	c.mu.Unlock()
}

// retire forgets p if it is idle: no caller between acquire and release
// and nothing pending. It reports whether p is gone.
func (c *Client) retire(p *partition) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.users > 0 || p.pendingLen() > 0 {
		return false
	}
	delete(c.parts, p.key)
	return true
}

// rebalance asks every stream to close once answered and re-open where
// the ring now maps its key.
func (c *Client) rebalance() {
	c.mu.Lock()
	ps := make([]*partition, 0, len(c.parts))
	for _, p := range c.parts {
		ps = append(ps, p)
	}
	c.mu.Unlock()
	for _, p := range ps {
		p.requestRotate()
	}
}

// Close ends every stream, completes every pending call with ErrClosed,
// waits for the client's goroutines and closes the connection. Calls of Go
// after Close return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return nil
	}
	c.done = true
	close(c.closed)
	c.mu.Unlock()
	c.wg.Wait()
	return c.cc.Close()
}

// Stats returns what the client did so far.
func (c *Client) Stats() Stats { return c.m.stats() }

func samplesOf(req *astraguardv1.DetectRequest) int {
	n := 0
	for _, s := range req.GetSeries() {
		n += len(s.GetValues())
	}
	for _, f := range req.GetFrames() {
		n += len(f.GetChannels())
	}
	return n
}
