package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/astraguard/astraguard/client"
	"github.com/astraguard/astraguard/internal/smallfile"
	"github.com/astraguard/astraguard/internal/tlsconf"
)

const defaultAddr = "127.0.0.1:50051"

// connFlags are the flags every command that talks to the service takes.
type connFlags struct {
	addr      string
	token     string
	tokenFile string
	timeout   time.Duration // per unary call; 0 means none
	tls       bool
	tlsFiles  tlsconf.ClientFiles
}

// register adds the connection flags to fs.
func (cf *connFlags) register(fs *flag.FlagSet, timeout time.Duration) {
	fs.StringVar(&cf.addr, "addr", "", "service address host:port (env AGCTL_ADDR, default "+defaultAddr+")")
	fs.StringVar(&cf.token, "token", "", `bearer token sent as "authorization: Bearer TOKEN" metadata (env AGCTL_TOKEN; visible in ps: prefer --token-file)`)
	fs.StringVar(&cf.tokenFile, "token-file", "", "file holding the bearer token (env AGCTL_TOKEN_FILE)")
	fs.DurationVar(&cf.timeout, "timeout", timeout, "deadline of each call (0: none)")
	fs.BoolVar(&cf.tls, "tls", false, "use TLS, verifying the server with the system roots unless --tls-ca (implied by any --tls-* flag; default plaintext)")
	fs.StringVar(&cf.tlsFiles.CA, "tls-ca", "", "PEM CA bundle that verifies the service (env AGCTL_TLS_CA)")
	fs.StringVar(&cf.tlsFiles.Cert, "tls-cert", "", "PEM client certificate for mutual TLS (env AGCTL_TLS_CERT)")
	fs.StringVar(&cf.tlsFiles.Key, "tls-key", "", "PEM private key of --tls-cert (env AGCTL_TLS_KEY)")
	fs.StringVar(&cf.tlsFiles.ServerName, "tls-server-name", "", "name expected in the service's certificate (env AGCTL_TLS_SERVER_NAME; default the host of --addr)")
}

// resolve fills unset flags from the environment. The token is never a
// flag default so that usage text cannot print it. --token and
// --token-file are one setting: when either flag is given, neither is
// taken from the environment, so a flag beats AGCTL_TOKEN or
// AGCTL_TOKEN_FILE instead of clashing with it.
func (cf *connFlags) resolve(getenv func(string) string) {
	if cf.token == "" && cf.tokenFile == "" {
		cf.token, cf.tokenFile = getenv("AGCTL_TOKEN"), getenv("AGCTL_TOKEN_FILE")
	}
	for _, f := range []struct {
		v   *string
		env string
	}{
		{&cf.addr, "AGCTL_ADDR"},
		{&cf.tlsFiles.CA, "AGCTL_TLS_CA"}, {&cf.tlsFiles.Cert, "AGCTL_TLS_CERT"}, {&cf.tlsFiles.Key, "AGCTL_TLS_KEY"},
		{&cf.tlsFiles.ServerName, "AGCTL_TLS_SERVER_NAME"},
	} {
		if *f.v == "" {
			*f.v = getenv(f.env)
		}
	}
	if cf.addr == "" {
		cf.addr = defaultAddr
	}
	if cf.tlsFiles != (tlsconf.ClientFiles{}) {
		cf.tls = true
	}
}

// maxTokenFileBytes bounds --token-file, as the service bounds its
// --admin-token-file: a token is a line, and /dev/zero must be refused,
// not read until memory runs out.
const maxTokenFileBytes = 64 << 10

// readToken returns the token from --token or --token-file (or their
// environment variables, both set: an error). Errors name the file, never
// its content.
func (cf connFlags) readToken() (string, error) {
	if cf.tokenFile == "" {
		return cf.token, nil
	}
	if cf.token != "" {
		return "", usageError("give --token or --token-file (or AGCTL_TOKEN or AGCTL_TOKEN_FILE), not both")
	}
	b, err := smallfile.Read(cf.tokenFile, maxTokenFileBytes)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("--token-file %s is empty", cf.tokenFile)
	}
	return token, nil
}

// dial creates a client connection; it does not block or connect yet.
func (c *cli) dial(cf connFlags) (*grpc.ClientConn, error) {
	opts, err := c.dialOptions(cf)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(cf.addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", cf.addr, err)
	}
	return conn, nil
}

// dialReplicas returns a client that spreads series over the replicas cf.addr
// names (see client.New) with gRPC's ring_hash, window requests pending per
// series at most. It does not connect yet.
func (c *cli) dialReplicas(cf connFlags, window int) (*client.Client, error) {
	opts, err := c.dialOptions(cf)
	if err != nil {
		return nil, err
	}
	dc, err := client.New(cf.addr, client.Config{MaxPending: window}, client.WithDialOptions(opts...))
	if err != nil {
		return nil, usageError("--addr %s: %v", cf.addr, err)
	}
	return dc, nil
}

// dialOptions are the transport credentials and the token of cf, then the
// cli's own options.
func (c *cli) dialOptions(cf connFlags) ([]grpc.DialOption, error) {
	creds := insecure.NewCredentials()
	if cf.tls {
		cfg, err := tlsconf.Client(cf.tlsFiles)
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	token, err := cf.readToken()
	if err != nil {
		return nil, err
	}
	if token != "" {
		if !cf.tls && !isLoopbackTargets(cf.addr) {
			return nil, usageError("refusing to send the token in clear text to %s: add --tls-ca (or --tls), or use a loopback address", cf.addr)
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: token, requireTLS: cf.tls}))
	}
	return append(opts, c.dialOpts...), nil
}

// isLoopbackTargets is isLoopbackTarget of every address of a
// comma-separated list (agctl replay --addr a,b,c).
func isLoopbackTargets(targets string) bool {
	if strings.Contains(targets, "://") {
		return isLoopbackTarget(targets)
	}
	for _, t := range strings.Split(targets, ",") {
		if !isLoopbackTarget(t) {
			return false
		}
	}
	return true
}

// isLoopbackTarget reports whether a grpc.NewClient target names this
// machine: localhost, a loopback IP or a unix socket.
func isLoopbackTarget(target string) bool {
	if strings.HasPrefix(target, "unix:") {
		return true
	}
	if _, rest, ok := strings.Cut(target, ":///"); ok {
		target = rest
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		host = target
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}

// validate refuses connection flags no call could use.
func (cf connFlags) validate() error {
	if cf.timeout < 0 {
		return usageError("--timeout %v must not be negative (0: no deadline)", cf.timeout)
	}
	return nil
}

// callCtx derives the deadline of one unary call.
func (cf connFlags) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if cf.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, cf.timeout)
}

// bearer sends a bearer token with every call.
type bearer struct {
	token      string
	requireTLS bool // false only for plaintext to a loopback address
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity makes grpc refuse to send the token over a
// plaintext connection, except to loopback, which dial checked.
func (b bearer) RequireTransportSecurity() bool { return b.requireTLS }

// parseInterspersed parses fs over args, allowing flags after positional
// arguments ("agctl breakers get model -o json"), and returns the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
