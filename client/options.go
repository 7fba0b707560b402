package client

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Config holds the client's tunables. The zero value works.
type Config struct {
	// MaxPending caps the requests pending (sent or queued, unanswered) per
	// partition key; Go waits for room beyond it. Default 64.
	MaxPending int
	// MaxAttempts bounds the re-opens of one partition's stream in a row
	// without a response in between, after which its pending calls fail.
	// Default 20.
	MaxAttempts int
	// Backoff is the first wait before re-opening a failed stream, doubled
	// after each further failure up to MaxBackoff. Defaults 20ms and 1s.
	Backoff, MaxBackoff time.Duration
	// IdleTimeout closes a partition's stream once nothing was pending for
	// this long. Default 1 minute.
	IdleTimeout time.Duration
	// ResolveInterval asks a DNS target's resolver to resolve again this
	// often, so replicas added behind a headless service are found without
	// waiting for a connection to fail. gRPC's DNS resolver spaces
	// resolutions at least 30s apart anyway. Default 30s; shorter than
	// MinResolveInterval is raised to it (a ticker that fires every few
	// nanoseconds would spin a core); it does not apply to an address list
	// (use SetAddrs).
	ResolveInterval time.Duration
	// KeepaliveTime: a connection with streams open that was silent this
	// long is pinged, and one that leaves the ping unanswered for
	// KeepaliveTimeout is closed, failing its streams, which re-open
	// (on another replica, if the ring now picks one). Without it a replica
	// that hangs without closing its connections holds its streams until
	// TCP gives up. Defaults 30s and 10s; gRPC raises a KeepaliveTime
	// under 10s to 10s, and servers must allow pings that often
	// (astraguard's --keepalive-min-time, 10s by default).
	KeepaliveTime, KeepaliveTimeout time.Duration
}

// MinResolveInterval is the shortest Config.ResolveInterval: gRPC's DNS
// resolver answers at most every 30s, so asking more often than once a
// second only burns CPU.
const MinResolveInterval = time.Second

func (c Config) withDefaults() Config {
	if c.MaxPending <= 0 {
		c.MaxPending = 64
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 20
	}
	if c.Backoff <= 0 {
		c.Backoff = 20 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Second
	}
	c.MaxBackoff = max(c.MaxBackoff, c.Backoff)
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = time.Minute
	}
	if c.ResolveInterval <= 0 {
		c.ResolveInterval = 30 * time.Second
	}
	c.ResolveInterval = max(c.ResolveInterval, MinResolveInterval)
	if c.KeepaliveTime <= 0 {
		c.KeepaliveTime = 30 * time.Second
	}
	if c.KeepaliveTimeout <= 0 {
		c.KeepaliveTimeout = 10 * time.Second
	}
	return c
}

// Option sets a collaborator of the client.
type Option func(*options)

type options struct {
	reg       prometheus.Registerer
	logger    *slog.Logger
	key       func(*astraguardv1.DetectRequest) (string, error)
	retryable func(error) bool
	dialOpts  []grpc.DialOption
}

// WithRegisterer registers the client's metrics with reg; nil, the
// default, registers nothing. The counters, each labelled by replica (the
// peer address of the stream): astraguard_client_streams_opened_total,
// astraguard_client_streams_reopened_total (after a failure),
// astraguard_client_requests_resent_total and
// astraguard_client_duplicate_responses_total. Register one client per
// registerer, or wrap it with prometheus.WrapRegistererWith.
func WithRegisterer(reg prometheus.Registerer) Option { return func(o *options) { o.reg = reg } }

// WithLogger logs stream failures and re-opens at debug level, and calls
// given up at warn level; default: no logging.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithPartitionKey routes each request by key(req) instead of the default
// SeriesKey. Requests with equal keys share a stream, and so a replica.
func WithPartitionKey(key func(*astraguardv1.DetectRequest) (string, error)) Option {
	return func(o *options) { o.key = key }
}

// WithRetryable decides which stream errors re-open the stream and re-send;
// default Retryable.
func WithRetryable(f func(error) bool) Option { return func(o *options) { o.retryable = f } }

// WithDialOptions adds gRPC dial options (TLS credentials, per-RPC
// credentials, a context dialer, ...). They come after the client's own,
// so they may replace the transport credentials (default plaintext), but
// a service config given here would replace the ring_hash policy.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// ErrMixedKeys is returned by SeriesKey, so by Go, for a request whose
// series and frames do not share one partition key.
var ErrMixedKeys = errors.New("request holds several partition keys")

// ErrNoKey is returned by SeriesKey for a request without series or frames.
var ErrNoKey = errors.New("request holds no series and no frames")

// SeriesKey is the default partition key: the series id of every series in
// req, or the source of every frame, which must all be equal. A frame's
// channels are series "<source>/<channel>" on the service; routing them by
// source keeps one source's channels together, so do not send the same
// channel both as a frame and as a series.
func SeriesKey(req *astraguardv1.DetectRequest) (string, error) {
	key, found := "", false
	set := func(k string) error {
		if found && k != key {
			return fmt.Errorf("%w: %q and %q", ErrMixedKeys, key, k)
		}
		key, found = k, true
		return nil
	}
	for _, s := range req.GetSeries() {
		if err := set(s.GetSeriesId()); err != nil {
			return "", err
		}
	}
	for _, f := range req.GetFrames() {
		if err := set(f.GetSource()); err != nil {
			return "", err
		}
	}
	if !found {
		return "", ErrNoKey
	}
	return key, nil
}

// errUnanswered is a stream the server ended cleanly while requests sent
// on it had no response yet.
var errUnanswered = errors.New("stream ended with requests unanswered")

// Retryable is the default test of a stream error worth a re-open:
// Unavailable (replica gone or draining), Aborted, Internal, and a stream
// the server ended with requests unanswered.
func Retryable(err error) bool {
	if errors.Is(err, errUnanswered) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Aborted, codes.Internal:
		return true
	}
	return false
}
