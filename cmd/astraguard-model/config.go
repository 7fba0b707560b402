package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"time"

	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/envflag"
	"github.com/astraguard/astraguard/internal/modelserver"
	"github.com/astraguard/astraguard/internal/store"
	"github.com/astraguard/astraguard/internal/version"
)

// config is the command's configuration, from flags with env fallbacks.
type config struct {
	grpcAddr  string
	httpAddr  string
	maxSeries int
	seriesTTL time.Duration
	// stateDir holds the snapshot (empty: state in memory only), written
	// every checkpointInterval and on shutdown.
	stateDir           string
	checkpointInterval time.Duration
	grace              time.Duration
	maxConns           int           // open connections per listener
	maxConnsPerClient  int           // of those, per client; 0: connlimit's default
	maxConnIdle        time.Duration // close a gRPC connection idle this long
	maxStreams         uint          // concurrent streams (calls) per gRPC connection
	modelName          string
	logLevel           slog.Level
	// decodingBytes bounds the requests decoded at once; 0, as parsed:
	// the constant decodingBytes (not a flag; tests set it).
	decodingBytes int64
	// TLS for both listeners; clientCA turns on mutual TLS.
	tlsCert, tlsKey, tlsClientCA string
}

// envBinding names every flag's variable: ASTRAGUARD_MODEL_<FLAG_NAME>;
// --model-name also answers to ASTRAGUARD_MODEL_NAME, its name before the
// derivation.
var envBinding = envflag.Binding{
	Prefix:  "ASTRAGUARD_MODEL_",
	Skip:    []string{"version"},
	Aliases: map[string]string{"model-name": "ASTRAGUARD_MODEL_NAME"},
}

// flagSet binds every flag to c; showVersion is --version. The usage
// text names each flag's variable.
func (c *config) flagSet(stderr io.Writer) (fs *flag.FlagSet, showVersion *bool) {
	fs = flag.NewFlagSet("astraguard-model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := modelserver.DefaultConfig()
	fs.StringVar(&c.grpcAddr, "grpc-addr", ":8001", "gRPC listen `address`")
	fs.StringVar(&c.httpAddr, "http-addr", ":8002", "HTTP listen `address` for /metrics, /healthz, /readyz")
	fs.IntVar(&c.maxSeries, "max-series", d.MaxSeries, "most series the model keeps state for, least recently used evicted")
	fs.DurationVar(&c.seriesTTL, "series-ttl", store.DefaultIdleTTL, "forget a series idle this long; 0 keeps idle series until capacity evicts them")
	fs.StringVar(&c.stateDir, "state-dir", "", "`directory` for the per-series state snapshot, loaded at start and written every --checkpoint-interval and on shutdown; empty keeps state in memory only")
	fs.DurationVar(&c.checkpointInterval, "checkpoint-interval", checkpoint.DefaultInterval, "time between state checkpoints with --state-dir; at least 1s (each checkpoint writes and fsyncs every series' state)")
	fs.IntVar(&c.maxConns, "max-connections", connlimit.DefaultMax, "connections each listener (gRPC, HTTP) holds open at once; more wait to be accepted")
	fs.IntVar(&c.maxConnsPerClient, "max-connections-per-client", 0, "connections one client (IP address, IPv6 /64) may hold open on each listener; more are closed at once; 0 means a quarter of --max-connections")
	fs.DurationVar(&c.maxConnIdle, "max-connection-idle", connlimit.DefaultMaxConnectionIdle, "close a gRPC connection (GOAWAY) with no call in flight for this long, so idle connections cannot hold --max-connections; at least 1s; there is no off (a long value such as 8760h comes close)")
	fs.UintVar(&c.maxStreams, "max-concurrent-streams", connlimit.DefaultMaxConcurrentStreams, "calls one gRPC connection may have in flight at once (HTTP/2 setting; further calls wait in the client for a slot); each holds at most a 64 KiB receive window")
	fs.DurationVar(&c.grace, "grace-period", connlimit.DefaultGracePeriod, "drain time for in-flight calls on shutdown; 0 ends them at once")
	fs.StringVar(&c.modelName, "model-name", d.ModelName, "served model name")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn, error")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate for the gRPC and HTTP listeners; with --tls-key turns on TLS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&c.tlsClientCA, "tls-client-ca", "", "PEM CA bundle; clients must present a certificate it signed (mutual TLS)")
	showVersion = version.AddFlag(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: astraguard-model [flags]\n\nEvery flag can also be set as ASTRAGUARD_MODEL_<NAME>, e.g. ASTRAGUARD_MODEL_GRPC_ADDR\n(--model-name also as ASTRAGUARD_MODEL_NAME); the command line wins.\nA numeric flag set to 0 is refused unless its text says what 0 does: leave it unset for its default.\n\n")
		fs.PrintDefaults()
	}
	return fs, showVersion
}

// parseConfig parses args over environment fallbacks read with lookupEnv.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	var c config
	fs, showVersion := c.flagSet(stderr)
	if _, err := envBinding.Apply(fs, lookupEnv); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *showVersion {
		return c, version.ErrRequested
	}
	intervalErr := checkpoint.ValidateInterval(c.checkpointInterval)
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.maxSeries <= 0:
		return c, fmt.Errorf("--max-series %d must be positive", c.maxSeries)
	case c.maxSeries > store.MaxCapacity:
		return c, fmt.Errorf("--max-series %d above %d (the series table indexes its slots with 32-bit integers)", c.maxSeries, store.MaxCapacity)
	case intervalErr != nil:
		return c, fmt.Errorf("--checkpoint-interval: %w", intervalErr)
	case c.seriesTTL < 0:
		return c, fmt.Errorf("--series-ttl %v must not be negative", c.seriesTTL)
	case c.maxConns <= 0:
		return c, fmt.Errorf("--max-connections %d must be positive", c.maxConns)
	case c.maxConnsPerClient < 0:
		return c, fmt.Errorf("--max-connections-per-client %d must not be negative", c.maxConnsPerClient)
	case c.maxConnIdle < connlimit.MinKeepalive:
		return c, fmt.Errorf("--max-connection-idle %v below the minimum %v: there is no off (a long value such as 8760h comes close)", c.maxConnIdle, connlimit.MinKeepalive)
	case c.maxStreams == 0 || c.maxStreams > math.MaxUint32:
		return c, fmt.Errorf("--max-concurrent-streams %d must be between 1 and %d", c.maxStreams, uint64(math.MaxUint32))
	case c.grace < 0:
		return c, fmt.Errorf("--grace-period %v must not be negative", c.grace)
	case c.modelName == "":
		return c, fmt.Errorf("--model-name must not be empty")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return c, fmt.Errorf("--tls-cert and --tls-key go together")
	case c.tlsClientCA != "" && c.tlsCert == "":
		return c, fmt.Errorf("--tls-client-ca needs --tls-cert and --tls-key")
	}
	return c, nil
}

// listen opens the gRPC and HTTP listeners.
func (c config) listen(ctx context.Context) (grpcLis, httpLis net.Listener, err error) {
	var lc net.ListenConfig
	if grpcLis, err = lc.Listen(ctx, "tcp", c.grpcAddr); err != nil {
		return nil, nil, fmt.Errorf("listen grpc: %w", err)
	}
	if httpLis, err = lc.Listen(ctx, "tcp", c.httpAddr); err != nil {
		grpcLis.Close()
		return nil, nil, fmt.Errorf("listen http: %w", err)
	}
	return grpcLis, httpLis, nil
}
