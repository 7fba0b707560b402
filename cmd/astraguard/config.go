package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

var errHelp = flag.ErrHelp

// config is the parsed command line.
type config struct {
	grpcAddr         string
	httpAddr         string
	modelAddr        string
	modelName        string
	modelTimeout     time.Duration
	breakerPreset    string
	failureThreshold int
	recoveryTimeout  time.Duration
	successThreshold int
	maxSeries        int
	maxSamples       int
	gracePeriod      time.Duration
	logLevel         string
	logFormat        string
}

// parseConfig reads flags; every flag may also come from the environment
// as ASTRAGUARD_<FLAG_NAME> (dashes become underscores). A flag given on
// the command line wins over the environment.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("astraguard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.grpcAddr, "grpc-addr", ":50051", "gRPC listen address")
	fs.StringVar(&c.httpAddr, "http-addr", ":8080", "HTTP listen address for /metrics, /healthz and /readyz; empty disables")
	fs.StringVar(&c.modelAddr, "model-addr", "", "Open Inference Protocol model server address (host:port); empty runs the reference model embedded")
	fs.StringVar(&c.modelName, "model-name", "astraguard-anomaly", "model name on the model server")
	fs.DurationVar(&c.modelTimeout, "model-timeout", 100*time.Millisecond, "deadline of one model call; slower calls count as breaker failures")
	fs.StringVar(&c.breakerPreset, "breaker-preset", "balanced", "breaker preset: strict (2/10s/1), balanced (5/60s/2) or lenient (10/60s/3)")
	fs.IntVar(&c.failureThreshold, "failure-threshold", 0, "consecutive model failures that open the breaker (0 keeps the preset's)")
	fs.DurationVar(&c.recoveryTimeout, "recovery-timeout", 0, "wait while open before probing the model (0 keeps the preset's)")
	fs.IntVar(&c.successThreshold, "success-threshold", 0, "probe successes that close the breaker (0 keeps the preset's)")
	fs.IntVar(&c.maxSeries, "max-series", 100_000, "series tracked at most; samples of further series get an error verdict")
	fs.IntVar(&c.maxSamples, "max-samples-per-request", 100_000, "samples in one request at most")
	fs.DurationVar(&c.gracePeriod, "grace-period", 10*time.Second, "time open streams get to finish on shutdown")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "json", "log format: json or text")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: astraguard [flags]\n\nEvery flag can also be set as ASTRAGUARD_<NAME>, e.g. ASTRAGUARD_GRPC_ADDR.\n\n")
		fs.PrintDefaults()
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "ASTRAGUARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := lookupEnv(name); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case c.grpcAddr == "":
		return errors.New("--grpc-addr is required")
	case c.modelTimeout <= 0:
		return errors.New("--model-timeout must be positive")
	case c.failureThreshold < 0 || c.successThreshold < 0 || c.recoveryTimeout < 0:
		return errors.New("breaker settings must not be negative")
	case c.gracePeriod < 0:
		return errors.New("--grace-period must not be negative")
	}
	return nil
}
