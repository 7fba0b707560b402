package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

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
	maxConns           int // open connections per listener
	maxConnsPerClient  int // of those, per client; 0: connlimit's default
	modelName          string
	logLevel           slog.Level
	// TLS for both listeners; clientCA turns on mutual TLS.
	tlsCert, tlsKey, tlsClientCA string
}

// parseConfig parses args over environment fallbacks read with lookupEnv.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("astraguard-model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.grpcAddr, "grpc-addr", ":8001", "gRPC listen `address` (env ASTRAGUARD_MODEL_GRPC_ADDR)")
	fs.StringVar(&c.httpAddr, "http-addr", ":8002", "HTTP listen `address` for /metrics, /healthz, /readyz (env ASTRAGUARD_MODEL_HTTP_ADDR)")
	fs.IntVar(&c.maxSeries, "max-series", 100_000, "most series the model keeps state for, least recently used evicted (env ASTRAGUARD_MODEL_MAX_SERIES)")
	fs.DurationVar(&c.seriesTTL, "series-ttl", 24*time.Hour, "forget a series idle this long; 0 keeps idle series until capacity evicts them (env ASTRAGUARD_MODEL_SERIES_TTL)")
	fs.StringVar(&c.stateDir, "state-dir", "", "`directory` for the per-series state snapshot, loaded at start and written every --checkpoint-interval and on shutdown; empty keeps state in memory only (env ASTRAGUARD_MODEL_STATE_DIR)")
	fs.DurationVar(&c.checkpointInterval, "checkpoint-interval", 30*time.Second, "time between state checkpoints with --state-dir (env ASTRAGUARD_MODEL_CHECKPOINT_INTERVAL)")
	fs.IntVar(&c.maxConns, "max-connections", 10_000, "connections each listener (gRPC, HTTP) holds open at once; more wait to be accepted (env ASTRAGUARD_MODEL_MAX_CONNECTIONS)")
	fs.IntVar(&c.maxConnsPerClient, "max-connections-per-client", 0, "connections one client (IP address, IPv6 /64) may hold open on each listener; more are closed at once; 0 means a quarter of --max-connections (env ASTRAGUARD_MODEL_MAX_CONNECTIONS_PER_CLIENT)")
	fs.DurationVar(&c.grace, "grace-period", 10*time.Second, "drain time for in-flight calls on shutdown (env ASTRAGUARD_MODEL_GRACE_PERIOD)")
	fs.StringVar(&c.modelName, "model-name", "astraguard-anomaly", "served model name (env ASTRAGUARD_MODEL_NAME)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn, error (env ASTRAGUARD_MODEL_LOG_LEVEL)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate for the gRPC and HTTP listeners; with --tls-key turns on TLS (env ASTRAGUARD_MODEL_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of --tls-cert (env ASTRAGUARD_MODEL_TLS_KEY)")
	fs.StringVar(&c.tlsClientCA, "tls-client-ca", "", "PEM CA bundle; clients must present a certificate it signed (mutual TLS) (env ASTRAGUARD_MODEL_TLS_CLIENT_CA)")
	showVersion := version.AddFlag(fs)
	env := map[string]string{
		"grpc-addr":                  "ASTRAGUARD_MODEL_GRPC_ADDR",
		"http-addr":                  "ASTRAGUARD_MODEL_HTTP_ADDR",
		"max-series":                 "ASTRAGUARD_MODEL_MAX_SERIES",
		"series-ttl":                 "ASTRAGUARD_MODEL_SERIES_TTL",
		"state-dir":                  "ASTRAGUARD_MODEL_STATE_DIR",
		"checkpoint-interval":        "ASTRAGUARD_MODEL_CHECKPOINT_INTERVAL",
		"grace-period":               "ASTRAGUARD_MODEL_GRACE_PERIOD",
		"max-connections":            "ASTRAGUARD_MODEL_MAX_CONNECTIONS",
		"max-connections-per-client": "ASTRAGUARD_MODEL_MAX_CONNECTIONS_PER_CLIENT",
		"model-name":                 "ASTRAGUARD_MODEL_NAME",
		"log-level":                  "ASTRAGUARD_MODEL_LOG_LEVEL",
		"tls-cert":                   "ASTRAGUARD_MODEL_TLS_CERT",
		"tls-key":                    "ASTRAGUARD_MODEL_TLS_KEY",
		"tls-client-ca":              "ASTRAGUARD_MODEL_TLS_CLIENT_CA",
	}
	for name, key := range env {
		if v, ok := lookupEnv(key); ok && v != "" {
			if err := fs.Set(name, v); err != nil {
				return c, fmt.Errorf("env %s: %w", key, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *showVersion {
		return c, version.ErrRequested
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.maxSeries <= 0:
		return c, fmt.Errorf("--max-series %d must be positive", c.maxSeries)
	case c.checkpointInterval <= 0:
		return c, fmt.Errorf("--checkpoint-interval %v must be positive", c.checkpointInterval)
	case c.seriesTTL < 0:
		return c, fmt.Errorf("--series-ttl %v must not be negative", c.seriesTTL)
	case c.maxConns <= 0:
		return c, fmt.Errorf("--max-connections %d must be positive", c.maxConns)
	case c.maxConnsPerClient < 0:
		return c, fmt.Errorf("--max-connections-per-client %d must not be negative", c.maxConnsPerClient)
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
