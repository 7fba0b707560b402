package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// breakersConfig is the breakers command line.
type breakersConfig struct {
	conn   connFlags
	output string // "table" or "json"
	reason string
	ttl    time.Duration
}

const breakersUsage = `Usage: agctl breakers COMMAND [flags]

Commands:
  list                           every breaker, sorted by name
  get NAME                       one breaker in detail
  reset NAME [--reason R]        close NAME with fresh counts, clearing any override
  force NAME open|closed --reason R --ttl D
                                 override NAME's state for D (at most 24h)
  force NAME clear [--reason R]  remove the override
  watch [NAME...]                print the current state, then every transition,
                                 until interrupted (no deadline applies)

Flags may come before or after the arguments.

Flags:
`

func newBreakersFlags(c *cli) (*flag.FlagSet, *breakersConfig) {
	cfg := &breakersConfig{}
	fs := flag.NewFlagSet("agctl breakers", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	cfg.conn.register(fs, 10*time.Second)
	fs.StringVar(&cfg.output, "o", "table", "output format: table or json (protojson; one object per line for watch)")
	fs.StringVar(&cfg.reason, "reason", "", "why, for the audit log (required by force open|closed)")
	fs.DurationVar(&cfg.ttl, "ttl", 0, "how long a forced state lasts (required by force open|closed)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), breakersUsage)
		fs.PrintDefaults()
	}
	return fs, cfg
}

func (c *cli) breakers(ctx context.Context, args []string) error {
	fs, cfg := newBreakersFlags(c)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if cfg.output != "table" && cfg.output != "json" {
		return usageError("-o %q: want table or json", cfg.output)
	}
	if err := cfg.conn.validate(); err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usageError("breakers needs a command")
	}
	req, err := breakerRequest(pos, cfg)
	if err != nil {
		return err
	}
	cfg.conn.resolve(c.getenv)
	conn, err := c.dial(cfg.conn)
	if err != nil {
		return err
	}
	defer conn.Close()
	p := &printer{w: c.stdout, json: cfg.output == "json"}
	return req(ctx, astraguardv1.NewBreakerAdminClient(conn), cfg, p)
}

// breakerCall is one validated breakers command, ready to run.
type breakerCall func(context.Context, astraguardv1.BreakerAdminClient, *breakersConfig, *printer) error

// breakerRequest validates the positionals and returns the call to make.
func breakerRequest(pos []string, cfg *breakersConfig) (breakerCall, error) {
	cmd, args := pos[0], pos[1:]
	nargs := map[string]int{"list": 0, "get": 1, "reset": 1, "force": 2}
	if want, ok := nargs[cmd]; ok && len(args) != want {
		return nil, usageError("breakers %s takes %d argument(s), got %d", cmd, want, len(args))
	}
	switch cmd {
	case "list", "ls":
		return listBreakers, nil
	case "get":
		return func(ctx context.Context, cl astraguardv1.BreakerAdminClient, cfg *breakersConfig, p *printer) error {
			ctx, cancel := cfg.conn.callCtx(ctx)
			defer cancel()
			resp, err := cl.GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: args[0]})
			if err != nil {
				return rpcError("get breaker "+args[0], err)
			}
			return p.breaker(resp)
		}, nil
	case "reset":
		return func(ctx context.Context, cl astraguardv1.BreakerAdminClient, cfg *breakersConfig, p *printer) error {
			ctx, cancel := cfg.conn.callCtx(ctx)
			defer cancel()
			resp, err := cl.ResetBreaker(ctx, &astraguardv1.ResetBreakerRequest{Name: args[0], Reason: cfg.reason})
			if err != nil {
				return rpcError("reset breaker "+args[0], err)
			}
			return p.breaker(resp)
		}, nil
	case "force":
		return forceRequest(args[0], args[1], cfg)
	case "watch":
		return func(ctx context.Context, cl astraguardv1.BreakerAdminClient, _ *breakersConfig, p *printer) error {
			return watchBreakers(ctx, cl, args, p)
		}, nil
	}
	return nil, usageError("unknown breakers command %q (want list, get, reset, force or watch)", cmd)
}

func listBreakers(ctx context.Context, cl astraguardv1.BreakerAdminClient, cfg *breakersConfig, p *printer) error {
	ctx, cancel := cfg.conn.callCtx(ctx)
	defer cancel()
	resp, err := cl.ListBreakers(ctx, &astraguardv1.ListBreakersRequest{})
	if err != nil {
		return rpcError("list breakers", err)
	}
	return p.list(resp)
}

func forceRequest(name, mode string, cfg *breakersConfig) (breakerCall, error) {
	var o astraguardv1.Override
	switch mode {
	case "open":
		o = astraguardv1.Override_OVERRIDE_FORCED_OPEN
	case "closed", "close":
		o = astraguardv1.Override_OVERRIDE_FORCED_CLOSED
	case "clear":
		o = astraguardv1.Override_OVERRIDE_UNSPECIFIED
	default:
		return nil, usageError("force %s %q: want open, closed or clear", name, mode)
	}
	if o != astraguardv1.Override_OVERRIDE_UNSPECIFIED && (cfg.reason == "" || cfg.ttl <= 0) {
		return nil, usageError("force %s %s needs --reason and a positive --ttl", name, mode)
	}
	req := &astraguardv1.ForceBreakerRequest{Name: name, Override: o, Reason: cfg.reason}
	if cfg.ttl > 0 {
		req.Ttl = durationpb.New(cfg.ttl)
	}
	return func(ctx context.Context, cl astraguardv1.BreakerAdminClient, cfg *breakersConfig, p *printer) error {
		ctx, cancel := cfg.conn.callCtx(ctx)
		defer cancel()
		resp, err := cl.ForceBreaker(ctx, req)
		if err != nil {
			return rpcError("force breaker "+name, err)
		}
		return p.breaker(resp)
	}, nil
}

// watchBreakers prints the snapshot and then transitions until the server
// ends the stream or ctx is done (Ctrl-C), both of which are success.
func watchBreakers(ctx context.Context, cl astraguardv1.BreakerAdminClient, names []string, p *printer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := cl.WatchBreakers(ctx, &astraguardv1.WatchBreakersRequest{Names: names})
	if err != nil {
		return rpcError("watch breakers", err)
	}
	for {
		msg, err := stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case status.Code(err) == codes.Canceled && ctx.Err() != nil:
			return nil
		case err != nil:
			return rpcError("watch breakers", err)
		}
		if err := p.watch(msg); err != nil {
			return err
		}
	}
}

// rpcError renders a status error as "what: CODE: message".
func rpcError(what string, err error) error {
	if st, ok := status.FromError(err); ok {
		return fmt.Errorf("%s: %s: %s", what, st.Code(), printable(st.Message()))
	}
	return fmt.Errorf("%s: %w", what, err)
}
