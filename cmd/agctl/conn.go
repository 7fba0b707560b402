package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const defaultAddr = "127.0.0.1:50051"

// connFlags are the flags every command that talks to the service takes.
type connFlags struct {
	addr    string
	token   string
	timeout time.Duration // per unary call; 0 means none
}

// register adds --addr, --token and --timeout to fs.
func (cf *connFlags) register(fs *flag.FlagSet, timeout time.Duration) {
	fs.StringVar(&cf.addr, "addr", "", "service address host:port (env AGCTL_ADDR, default "+defaultAddr+")")
	fs.StringVar(&cf.token, "token", "", `bearer token sent as "authorization: Bearer TOKEN" metadata (env AGCTL_TOKEN)`)
	fs.DurationVar(&cf.timeout, "timeout", timeout, "deadline of each call (0: none)")
}

// resolve fills unset flags from the environment. The token is never a
// flag default so that usage text cannot print it.
func (cf *connFlags) resolve(getenv func(string) string) {
	if cf.addr == "" {
		cf.addr = getenv("AGCTL_ADDR")
	}
	if cf.addr == "" {
		cf.addr = defaultAddr
	}
	if cf.token == "" {
		cf.token = getenv("AGCTL_TOKEN")
	}
}

// dial creates a client connection; it does not block or connect yet.
func (c *cli) dial(cf connFlags) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if cf.token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(cf.token)))
	}
	opts = append(opts, c.dialOpts...)
	conn, err := grpc.NewClient(cf.addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", cf.addr, err)
	}
	return conn, nil
}

// callCtx derives the deadline of one unary call.
func (cf connFlags) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if cf.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, cf.timeout)
}

// bearer sends a bearer token with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false because the service has no TLS yet;
// the token then travels in clear text, which is acceptable on loopback.
// TODO(agctl): add --tls flags and require them with --token off-host.
func (b bearer) RequireTransportSecurity() bool { return false }

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
