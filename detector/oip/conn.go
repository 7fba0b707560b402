package oip

import (
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/astraguard/astraguard/internal/protolimit"
)

// Connection defaults used by NewConn.
const (
	// KeepaliveTime is how long a connection with calls in flight stays
	// silent before the client pings it. Servers must allow pings this
	// often (grpc-go: keepalive.EnforcementPolicy.MinTime <= 30s), or they
	// close the connection with "too_many_pings".
	KeepaliveTime = 30 * time.Second
	// KeepaliveTimeout is how long a ping may go unanswered before the
	// connection is considered dead.
	KeepaliveTimeout = 10 * time.Second
	// MaxMessageBytes bounds a response; 100k samples take about 1.2 MB.
	MaxMessageBytes = 16 << 20
)

// NewConn returns a *grpc.ClientConn for addr (a grpc.NewClient target,
// e.g. "dns:///model:8001" or "localhost:8001") with keepalive, a short
// reconnect backoff, ServiceConfig's retry policy and throttling, and
// plaintext transport credentials; opts are applied
// after these defaults, so a caller passes
// grpc.WithTransportCredentials(credentials.NewTLS(cfg)) to use TLS or
// mutual TLS (cmd/astraguard builds cfg with internal/tlsconf.Client from
// its --model-tls-* flags). Like grpc.NewClient it never blocks and makes no connection
// until the first call: readiness is CheckReady's job, not the dial's. The
// caller closes the conn.
func NewConn(addr string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	base := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: KeepaliveTime, Timeout: KeepaliveTimeout}),
		// grpc's default reconnect backoff starts at 1s; a restarted model
		// server should be found again within a breaker's open period.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes),
			// A response's decoded size is bounded too (64 MiB; the largest
			// answer, 100,000 samples in typed contents, estimates about
			// 10 MB): nearly empty repeated elements decode to about 70 times
			// their wire size, so a broken or hostile model server's 16 MiB
			// answer took more than a gigabyte in the service.
			grpc.ForceCodecV2(protolimit.Codec(4*MaxMessageBytes))),
		grpc.WithDefaultServiceConfig(ServiceConfig),
	}
	conn, err := grpc.NewClient(addr, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("new model conn %q: %w", addr, err)
	}
	return conn, nil
}
