package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/internal/anomalyview"
	"github.com/astraguard/astraguard/internal/checkpoint"
	configfile "github.com/astraguard/astraguard/internal/config"
	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/envflag"
	"github.com/astraguard/astraguard/internal/store"
	"github.com/astraguard/astraguard/internal/version"
	"github.com/astraguard/astraguard/server"
)

var errHelp = flag.ErrHelp

// config is the service's configuration: the command line and environment
// (base, read once at start) with the --config file applied over them.
type config struct {
	grpcAddr           string
	httpAddr           string
	modelAddr          string
	modelName          string
	modelTimeout       time.Duration
	breakerPreset      string
	failureThreshold   int
	recoveryTimeout    time.Duration
	successThreshold   int
	maxSeries          int
	seriesTTL          time.Duration
	maxClockSkew       time.Duration
	stateDir           string             // empty: no checkpoints
	checkpointInterval time.Duration      // between checkpoints while serving
	handoverDir        string             // empty: no handover between replicas
	replicaName        string             // this replica's handover file name; empty: host-pid
	anomalyView        anomalyview.Config // --anomaly-view-series and --anomaly-view-samples
	limits             server.Config      // --max-*, --send-timeout, --handshake-timeout, --keepalive-*, --max-connection-idle and --rate-* flags
	gracePeriod        time.Duration
	logLevel           string
	logFormat          string
	sec                securityConfig              // TLS and admin authorization (security.go)
	configFile         string                      // --config
	checkConfig        bool                        // --check-config
	file               *configfile.Config          // the loaded --config file; nil without one
	fromFile           map[string]configfile.Value // flags whose value the file set, by flag name
	explicit           map[string]bool             // flags set on the command line or in the environment
	effective          map[string]string           // every flag's final value as text, for reload diffs
	envToken           *secret                     // ASTRAGUARD_ADMIN_TOKEN as read at start; nil: unset
	base               *config                     // the command line and environment alone, read once at start
	// runningModelTimeout is, at a reload, the model timeout in force: not
	// live, it stays until a restart, so the breaker settings the reload
	// applies must fit it too (breakerSettings). 0 at start.
	runningModelTimeout time.Duration
	// Merged and checked by withFile: the model breaker's settings and the
	// policies (as listed, to compare, and compiled for the detector).
	breaker    breaker.Settings
	policyList []detector.Policy
	policies   *detector.Policies
}

// parseConfig reads flags; every flag may also come from the environment
// as ASTRAGUARD_<FLAG_NAME> (dashes become underscores) and from the
// --config file as the key flag_name. A flag given on the command line
// wins over the environment, which wins over the file, which wins over the
// default.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	base, err := parseFlags(args, lookupEnv, stderr)
	if err != nil {
		return base, err
	}
	return base.withFile(nil)
}

// parseFlags reads the command line and the environment, once, at start:
// the configuration without the file, which a reload applies the file
// over again.
func parseFlags(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (config, error) {
	var c config
	fs, showVersion := c.flagSet(stderr)
	var err error
	if c.explicit, err = envBinding.Apply(fs, lookupEnv); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *showVersion {
		return c, version.ErrRequested
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { c.explicit[f.Name] = true })
	if t, ok := lookupEnv(adminTokenEnv); ok {
		tok := secret(t)
		c.envToken = &tok
	}
	return c, nil
}

// withFile applies the --config file (data, or the file read when data is
// nil) over base, the command line and environment as parseFlags read
// them, and validates the result. Every problem is collected, so
// --check-config and a reload report all of them at once, in the file's
// line order.
func (base config) withFile(data []byte) (config, error) {
	c := new(config)
	fs, _ := c.flagSet(io.Discard)
	// The flags are bound to c's fields: overwriting the fields in place
	// hands the flag set base's values, not the defaults binding set.
	*c = base
	c.sec.adminIdentities = slices.Clip(c.sec.adminIdentities) // the file's appends must not reach base
	c.base = &base
	var errs []error
	c.fromFile = map[string]configfile.Value{}
	if c.configFile != "" {
		fc, err := applyFile(fs, c.configFile, data, c.explicit, c.fromFile)
		if err != nil {
			errs = append(errs, err)
		}
		c.file = fc
	}
	c.effective = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { c.effective[f.Name] = f.Value.String() })
	errs = append(errs, c.problems(fs, fieldFlags(fs, &c.limits))...)
	if err := c.sec.load(c.envToken); err != nil {
		errs = append(errs, err)
	} else if err := c.sec.plaintextToken(c.grpcAddr, c.httpAddr); err != nil {
		errs = append(errs, err)
	}
	var err error
	if c.breaker, err = breakerSettings(*c); err != nil {
		errs = append(errs, err)
	}
	if c.policyList, c.policies, err = policies(*c); err != nil {
		errs = append(errs, err)
	}
	return *c, joinProblems(errs)
}

// envBinding names every flag's variable: ASTRAGUARD_<FLAG_NAME>.
var envBinding = envflag.Binding{Prefix: "ASTRAGUARD_", Skip: []string{"version"}}

// flagSet binds every flag to c; showVersion is --version.
func (c *config) flagSet(stderr io.Writer) (fs *flag.FlagSet, showVersion *bool) {
	fs = flag.NewFlagSet("astraguard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Defaults are the components' own (DefaultConfig, presets, constants);
	// only what belongs to this command is written here.
	d := detector.DefaultConfig()
	fs.StringVar(&c.grpcAddr, "grpc-addr", ":50051", "gRPC listen address")
	fs.StringVar(&c.httpAddr, "http-addr", ":8080", "HTTP listen address for /metrics, /healthz and /readyz; empty disables")
	fs.StringVar(&c.modelAddr, "model-addr", "", "Open Inference Protocol model server address (host:port); empty runs the reference model embedded")
	fs.StringVar(&c.modelName, "model-name", oip.DefaultModelName, "model name on the model server")
	fs.DurationVar(&c.modelTimeout, "model-timeout", d.ModelTimeout, "deadline of one model call; slower calls count as breaker failures")
	fs.StringVar(&c.breakerPreset, "breaker-preset", breaker.PresetBalanced, "breaker preset: strict (2/10s/1), balanced (5/60s/2) or lenient (10/60s/3)")
	fs.IntVar(&c.failureThreshold, "failure-threshold", 0, "consecutive model failures that open the breaker (0 keeps the preset's)")
	fs.DurationVar(&c.recoveryTimeout, "recovery-timeout", 0, "wait while open before probing the model (0 keeps the preset's); at least 1ms, so the open breaker sheds load")
	fs.IntVar(&c.successThreshold, "success-threshold", 0, "probe successes that close the breaker (0 keeps the preset's)")
	fs.IntVar(&c.maxSeries, "max-series", d.MaxSeries, "series tracked at most; a new series at a full table evicts the least recently used one")
	fs.DurationVar(&c.seriesTTL, "series-ttl", store.DefaultIdleTTL, "forget a series that sent nothing for this long; 0 keeps idle series until capacity evicts them")
	fs.DurationVar(&c.maxClockSkew, "max-clock-skew", d.MaxClockSkew, "reject samples stamped more than this ahead of the server clock (INVALID_TIMESTAMP)")
	fs.StringVar(&c.stateDir, "state-dir", "", "directory for the state snapshot (series state, breakers), loaded at start and written every --checkpoint-interval and on shutdown; empty keeps state in memory only")
	fs.DurationVar(&c.checkpointInterval, "checkpoint-interval", checkpoint.DefaultInterval, "time between state checkpoints with --state-dir, and between scans of --handover-dir; a kill -9 loses at most this much learning; at least 1s (each checkpoint writes and fsyncs every series' state)")
	fs.StringVar(&c.handoverDir, "handover-dir", "", "directory shared by all replicas (a shared volume): a draining replica writes its series state there, and the replica its series move to adopts them instead of warming up again; scanned every --checkpoint-interval; empty disables")
	fs.StringVar(&c.replicaName, "replica-name", "", "this replica's unique name in --handover-dir (file <name>.snap); empty uses hostname-pid")
	c.registerLimits(fs)
	fs.IntVar(&c.anomalyView.Series, "anomaly-view-series", anomalyview.DefaultSeries, "recently flagged series whose recent samples the page's anomaly view keeps (the least recently flagged evicted); 0 turns the anomaly feed and charts off")
	fs.IntVar(&c.anomalyView.Samples, "anomaly-view-samples", anomalyview.DefaultSamples, "recent samples kept per series for the anomaly view's charts (48 bytes each)")
	fs.DurationVar(&c.gracePeriod, "grace-period", connlimit.DefaultGracePeriod, "time open streams get to finish on shutdown; 0 ends them at once")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "json", "log format: json or text")
	c.sec.register(fs)
	showVersion = version.AddFlag(fs)
	fs.StringVar(&c.configFile, "config", "", "YAML configuration file (README \"Configuration file\"); reloaded on SIGHUP, on change and on POST /-/reload")
	fs.BoolVar(&c.checkConfig, "check-config", false, "validate the configuration (flags, environment and --config file) and exit: 0 valid, 1 invalid")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: astraguard [flags]\n\nEvery flag can also be set as ASTRAGUARD_<NAME>, e.g. ASTRAGUARD_GRPC_ADDR.\nA numeric flag set to 0 is refused unless its text says what 0 does: leave it unset for its default.\n\n")
		fs.PrintDefaults()
	}
	return fs, showVersion
}

// joinProblems flattens errs (some are joined lists) and joins them in
// reading order: problems without a file line first, then by line.
func joinProblems(errs []error) error {
	var flat []error
	var add func(error)
	add = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add(e)
			}
			return
		}
		flat = append(flat, err)
	}
	for _, err := range errs {
		if err != nil {
			add(err)
		}
	}
	if len(flat) == 0 {
		return nil
	}
	return errors.Join(configfile.SortErrors(flat)...)
}

// flagError names a problem of flag name's value: by the file's key and
// line when the value came from the --config file, else by the flag.
func (c config) flagError(name string, err error) error {
	if v, ok := c.fromFile[name]; ok {
		return &configfile.Error{File: c.configFile, Line: v.Line, Key: v.Key, Err: err}
	}
	return fmt.Errorf("--%s: %w", name, err)
}

// problems lists every invalid flag value: the rules of this command, and
// the bounds the detector and the server own (their ValidateExplicit), each
// named by its flag or file key; limitFlags maps server.Config's fields to
// their flags.
func (c config) problems(fs *flag.FlagSet, limitFlags map[string]string) []error {
	var errs []error
	bad := func(cond bool, name, msg string) {
		if cond {
			errs = append(errs, c.flagError(name, errors.New(msg)))
		}
	}
	fs.VisitAll(func(f *flag.Flag) { bad(negative(f.Value), f.Name, "must not be negative") })
	bad(c.grpcAddr == "", "grpc-addr", "required")
	if err := checkpoint.ValidateInterval(c.checkpointInterval); err != nil && c.checkpointInterval >= 0 {
		errs = append(errs, c.flagError("checkpoint-interval", err))
	}
	bad(c.anomalyView.Samples == 0, "anomaly-view-samples", "must be positive")
	if err := c.anomalyView.Validate(); err != nil && c.anomalyView.Series >= 0 && c.anomalyView.Samples >= 0 {
		// Too many samples in all: blame the series when they alone are
		// too many at the default samples per series.
		name := "anomaly-view-samples"
		if (anomalyview.Config{Series: c.anomalyView.Series}).Validate() != nil {
			name = "anomaly-view-series"
		}
		errs = append(errs, c.flagError(name, err))
	}
	bad(strings.ContainsAny(c.replicaName, `/\`) || c.replicaName == "." || c.replicaName == "..", "replica-name", "want a plain file name")
	dcfg := detector.Config{ModelTimeout: c.modelTimeout, MaxSeries: c.maxSeries, SeriesTTL: c.seriesTTL,
		MaxSeriesIDBytes: detector.DefaultMaxSeriesIDBytes, MaxClockSkew: c.maxClockSkew}
	errs = append(errs, c.fieldErrors(fs, dcfg.ValidateExplicit(), map[string]string{
		"ModelTimeout": "model-timeout", "MaxSeries": "max-series", "SeriesTTL": "series-ttl", "MaxClockSkew": "max-clock-skew"})...)
	// Every limit flag starts at DefaultConfig's value, so a 0 there was
	// written, and means the default only where the field says so.
	errs = append(errs, c.fieldErrors(fs, c.limits.ValidateExplicit(), limitFlags)...)
	return errs
}

// fieldErrors maps a component's Validate errors (*detector.FieldError,
// *server.FieldError) to their flags in fs through flags (Go field name to
// flag name); a negative value is already reported by problems.
func (c config) fieldErrors(fs *flag.FlagSet, err error, flags map[string]string) []error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		field, cause := "", e
		var de *detector.FieldError
		var se *server.FieldError
		switch {
		case errors.As(e, &de):
			field, cause = de.Field, de.Err
		case errors.As(e, &se):
			field, cause = se.Field, se.Err
		}
		name, ok := flags[field]
		switch {
		case !ok:
			out = append(out, e)
		case !negative(fs.Lookup(name).Value):
			out = append(out, c.flagError(name, cause))
		}
	}
	return out
}

// fieldFlags maps the Go names of the fields of the struct ptr points to
// onto the flags bound to them (by address), so a component's field
// errors name the flag.
func fieldFlags(fs *flag.FlagSet, ptr any) map[string]string {
	v := reflect.ValueOf(ptr).Elem()
	byAddr := map[uintptr]string{}
	for _, f := range reflect.VisibleFields(v.Type()) {
		if f.IsExported() {
			byAddr[v.FieldByIndex(f.Index).Addr().Pointer()] = f.Name
		}
	}
	out := map[string]string{}
	fs.VisitAll(func(fl *flag.Flag) {
		if rv := reflect.ValueOf(fl.Value); rv.Kind() == reflect.Pointer {
			if field, ok := byAddr[rv.Pointer()]; ok {
				out[field] = fl.Name
			}
		}
	})
	return out
}

// registerLimits binds the server's limit flags (README "Limits"), their
// defaults server.DefaultConfig's, so --help shows them; problems refuses a
// 0 in them where server.Config gives 0 no meaning of its own.
func (c *config) registerLimits(fs *flag.FlagSet) {
	l, d := &c.limits, server.DefaultConfig()
	*l = d // the fields without a flag (QueueDepth, MaxRateClients) too
	fs.IntVar(&l.MaxSamplesPerRequest, "max-samples-per-request", d.MaxSamplesPerRequest, "samples in one request at most")
	fs.IntVar(&l.MaxSendMsgBytes, "max-send-msg-bytes", d.MaxSendMsgBytes, "bytes in one response message at most (gRPC clients read 4 MiB by default); a request whose response could be larger is refused")
	fs.IntVar(&l.MaxRecvMsgBytes, "max-recv-msg-bytes", d.MaxRecvMsgBytes, "bytes in one request message at most (100,000 columnar samples take about 1.7 MB)")
	fs.IntVar(&l.MaxHeaderListBytes, "max-header-list-bytes", d.MaxHeaderListBytes, "bytes of one request's metadata (its gRPC headers) at most")
	fs.IntVar(&l.MaxConnections, "max-connections", d.MaxConnections, "connections each listener (gRPC, admin, HTTP) holds open at once; more wait to be accepted")
	fs.IntVar(&l.MaxConnectionsPerClient, "max-connections-per-client", 0, "connections one client (IP address, IPv6 /64) may hold open on each listener; more are closed at once; 0 means a quarter of --max-connections")
	fs.Var((*uint32Flag)(&l.MaxConcurrentStreams), "max-concurrent-streams", "streams per connection at most (HTTP/2 setting; clients wait for a slot)")
	fs.IntVar(&l.MaxDetectStreams, "max-detect-streams", d.MaxDetectStreams, "Detect streams open at once over all connections; more are refused")
	fs.IntVar(&l.MaxDetectStreamsPerClient, "max-detect-streams-per-client", 0, "Detect streams one client (IP address, IPv6 /64) may hold open; more are refused; 0 means a quarter of --max-detect-streams")
	fs.IntVar(&l.MaxSeriesPerStream, "max-series-per-stream", d.MaxSeriesPerStream, "distinct series one Detect stream may send")
	fs.IntVar(&l.MaxWatchStreams, "max-watch-streams", d.MaxWatchStreams, "WatchBreakers and breaker-page event streams open at once over all clients; more are refused")
	fs.IntVar(&l.MaxWatchStreamsPerClient, "max-watch-streams-per-client", d.MaxWatchStreamsPerClient, "WatchBreakers and breaker-page event streams one client (peer IP) may hold open; more are refused")
	fs.IntVar(&l.MaxQueuedBytes, "max-queued-bytes", d.MaxQueuedBytes, "bytes of requests (from decoding until answered) and unread responses held by all Detect streams and DetectBatch calls at once; readers wait for room, slowing their clients; a decoded request that finds the waiting room (half of it) full is refused; requests being decoded (any call) hold at most another half, estimated from the wire, and the rest wait to be decoded, so requests take at most 1.5 times this")
	fs.DurationVar(&l.SendTimeout, "send-timeout", d.SendTimeout, "end a Detect stream whose client has not read a response for this long")
	fs.DurationVar(&l.HandshakeTimeout, "handshake-timeout", d.HandshakeTimeout, "close a new connection that has not finished its TLS/HTTP/2 setup in this time")
	fs.DurationVar(&l.KeepaliveTime, "keepalive-time", d.KeepaliveTime, "ping a client connection silent this long; with --keepalive-timeout, how soon a vanished client's streams end; at least 1s (gRPC raises less to 1s)")
	fs.DurationVar(&l.KeepaliveTimeout, "keepalive-timeout", d.KeepaliveTimeout, "close a connection whose client has not answered a ping in this time; at least 1s (a ping's answer crosses the network)")
	fs.DurationVar(&l.KeepaliveMinTime, "keepalive-min-time", d.KeepaliveMinTime, "close a connection whose client pings more often than this (GOAWAY too_many_pings); at least 1s (less lets a client keep the server answering pings)")
	fs.DurationVar(&l.MaxConnectionIdle, "max-connection-idle", d.MaxConnectionIdle, "close a gRPC connection (GOAWAY) with no call in flight for this long, so idle connections cannot hold --max-connections; at least 1s; there is no off (a long value such as 8760h comes close)")
	fs.Float64Var(&l.RateLimit, "rate-limit", 0, "samples per second per client (peer IP) over all its calls; 0 disables")
	fs.IntVar(&l.RateBurst, "rate-burst", 0, "samples a client may send at once; 0 means one second's worth of --rate-limit")
	// RateWait: the service waits a second where the library fails at once.
	fs.DurationVar(&l.RateWait, "rate-wait", time.Second, "how long an over-budget request waits (slowing its client) before it fails; 0 fails at once")
}

// uint32Flag is a flag bound to a uint32 (--max-concurrent-streams), so
// fieldFlags finds it by address like the others.
type uint32Flag uint32

func (u *uint32Flag) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return err
	}
	*u = uint32Flag(n)
	return nil
}

func (u *uint32Flag) String() string { return strconv.FormatUint(uint64(*u), 10) }

func (u *uint32Flag) Get() any { return uint32(*u) }
