package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	configfile "github.com/astraguard/astraguard/internal/config"
)

// liveKeys are the settings a reload applies to the running service; a
// change to any other needs a restart, which the reload reports and does
// not apply.
var liveKeys = map[string]bool{"log-level": true, "breakers." + modelBreaker: true, "policies": true}

// reloadResult is what one reload did, as logged and as POST /-/reload's
// JSON body.
type reloadResult struct {
	Trigger      string   `json:"trigger"`
	Success      bool     `json:"success"`
	Error        string   `json:"error,omitempty"`
	Applied      []string `json:"applied"`
	NeedsRestart []string `json:"needs_restart"`
}

// reloader re-reads flags, environment and --config as at start-up,
// validates the whole result, then applies what can change live. It
// serializes reloads; the last good configuration stays in force when a
// reload fails.
type reloader struct {
	args      []string
	lookupEnv func(string) (string, bool)
	logger    *slog.Logger
	// apply sets the live keys; br and ps are nil when the breaker's
	// settings or the policies did not change. It cannot fail: everything
	// was validated first.
	apply func(cfg config, br *breaker.Settings, ps *detector.Policies)
	now   func() time.Time

	ok      prometheus.Gauge
	okTime  prometheus.Gauge
	total   *prometheus.CounterVec
	mu      sync.Mutex
	running config // guarded by mu; live keys as applied, the rest as started
	// startEmpty: --config was empty at start, so an empty file is what
	// the operator wrote, not a rewrite caught half-way.
	startEmpty bool
	runningBr  breaker.Settings
	runningPs  []detector.Policy
}

// newReloader starts from cfg, the configuration in force; a reload
// parses cfg's arguments and environment again.
func newReloader(cfg config, logger *slog.Logger, reg prometheus.Registerer, apply func(config, *breaker.Settings, *detector.Policies)) (*reloader, error) {
	br, err := breakerSettings(cfg)
	if err != nil {
		return nil, err
	}
	ps, _, err := policies(cfg)
	if err != nil {
		return nil, err
	}
	f := promauto.With(reg)
	cfg.effective = maps.Clone(cfg.effective)
	r := &reloader{args: cfg.args, lookupEnv: cfg.lookupEnv, logger: logger, apply: apply, now: time.Now,
		running: cfg, runningBr: br, runningPs: ps, startEmpty: cfg.file != nil && cfg.file.Empty(),
		ok: f.NewGauge(prometheus.GaugeOpts{Name: "astraguard_config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded (1) or failed and the last good configuration stayed in force (0)."}),
		okTime: f.NewGauge(prometheus.GaugeOpts{Name: "astraguard_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load (start-up or reload)."}),
		total: f.NewCounterVec(prometheus.CounterOpts{Name: "astraguard_config_reloads_total",
			Help: "Configuration reloads by result (success or failure)."}, []string{"result"}),
	}
	r.ok.Set(1)
	r.okTime.Set(float64(r.now().UnixNano()) / 1e9)
	r.total.WithLabelValues("success")
	r.total.WithLabelValues("failure")
	return r, nil
}

// errEmptyFile is a reload's answer to a --config file found empty that
// was not empty at start: most likely caught mid-rewrite.
var errEmptyFile = errors.New("the config file is empty; the last good configuration stays in force (update it by renaming a complete file over it: README \"Configuration file\")")

// reload loads and, if valid, applies the configuration. data is the
// --config file's content as the watcher read it; nil reads the file (once).
func (r *reloader) reload(trigger string, data []byte) reloadResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := reloadResult{Trigger: trigger, Applied: []string{}, NeedsRestart: []string{}}
	if data == nil && r.running.configFile != "" {
		var err error
		if data, err = configfile.ReadFile(r.running.configFile); err != nil {
			return r.failed(res, err)
		}
	}
	if r.running.configFile != "" && len(bytes.TrimSpace(data)) == 0 && !r.startEmpty {
		res.Error = errEmptyFile.Error()
		r.ok.Set(0)
		r.total.WithLabelValues("failure").Inc()
		r.logger.Warn("config reload skipped", "trigger", trigger, "file", r.running.configFile, "err", errEmptyFile)
		return res
	}
	next, br, err := r.load(data)
	var ps []detector.Policy
	var compiled *detector.Policies
	if err == nil {
		ps, compiled, err = policies(next)
	}
	if err != nil {
		return r.failed(res, err)
	}
	keys := changedKeys(r.running, next, r.runningBr, br)
	psChanged := !reflect.DeepEqual(ps, r.runningPs)
	if psChanged {
		keys = append(keys, "policies")
		slices.Sort(keys)
	}
	for _, k := range keys {
		if liveKeys[k] {
			res.Applied = append(res.Applied, k)
			r.running.effective[k] = next.effective[k]
		} else {
			res.NeedsRestart = append(res.NeedsRestart, k)
		}
	}
	r.running.logLevel = next.logLevel
	var newBr *breaker.Settings
	if !reflect.DeepEqual(br, r.runningBr) {
		r.runningBr, newBr = br, &br
	}
	var newPs *detector.Policies
	if psChanged {
		r.runningPs, newPs = ps, compiled
	}
	r.apply(r.running, newBr, newPs)
	res.Success = true
	r.ok.Set(1)
	r.okTime.Set(float64(r.now().UnixNano()) / 1e9)
	r.total.WithLabelValues("success").Inc()
	r.logger.Info("config reloaded", "trigger", trigger, "applied", res.Applied, "needs_restart", res.NeedsRestart)
	return res
}

// failed reports a reload that changed nothing.
func (r *reloader) failed(res reloadResult, err error) reloadResult {
	res.Error = err.Error()
	r.ok.Set(0)
	r.total.WithLabelValues("failure").Inc()
	r.logger.Error("config reload failed; the last good configuration stays in force", "trigger", res.Trigger, "err", err)
	return res
}

// load validates the new configuration as start-up would, with data as
// the --config file's content.
func (r *reloader) load(data []byte) (config, breaker.Settings, error) {
	next, err := parseConfigFile(r.args, r.lookupEnv, io.Discard, data)
	if err != nil {
		return next, breaker.Settings{}, err
	}
	if err := validateExtra(next); err != nil {
		return next, breaker.Settings{}, err
	}
	br, err := breakerSettings(next)
	return next, br, err
}

// changedKeys lists the flag names whose values differ, "breakers.model"
// when that breaker's settings do, and "admin token" when the token
// changed (by name only: its value is never reported).
func changedKeys(old, next config, oldBr, nextBr breaker.Settings) []string {
	var keys []string
	for k, v := range next.effective {
		if old.effective[k] != v && k != "check-config" {
			keys = append(keys, k)
		}
	}
	if !reflect.DeepEqual(oldBr, nextBr) {
		keys = append(keys, "breakers."+modelBreaker)
	}
	if tokenDigest(old) != tokenDigest(next) {
		keys = append(keys, "admin token")
	}
	slices.Sort(keys)
	return keys
}

func tokenDigest(c config) [sha256.Size]byte {
	if c.sec.adminToken == nil {
		return [sha256.Size]byte{}
	}
	return sha256.Sum256(*c.sec.adminToken)
}

// startWatch begins watching for SIGHUP and, with --config, for changes
// of the file; the returned run function reloads on them until its
// context is done. Started before the service says it is serving, so no
// change made after that is missed.
func (r *reloader) startWatch(cfg config) (func(context.Context) error, error) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	if cfg.file == nil {
		return func(ctx context.Context) error {
			defer signal.Stop(sig)
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-sig:
					r.reload("signal", nil)
				}
			}
		}, nil
	}
	wt, err := configfile.Watcher{Path: cfg.configFile, Digest: cfg.file.Digest(), Signals: sig,
		Reload: func(trigger string, data []byte) { r.reload(trigger, data) },
		Errors: func(err error) { r.logger.Warn("config watch", "err", err) }}.Start()
	if err != nil {
		signal.Stop(sig)
		return nil, err
	}
	return func(ctx context.Context) error {
		defer signal.Stop(sig)
		return wt.Run(ctx)
	}, nil
}

// handler serves POST /-/reload: it reloads and answers with the result
// as JSON, 200 on success and 400 when the new configuration was rejected.
func (r *reloader) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		res := r.reload("http", nil)
		w.Header().Set("Content-Type", "application/json")
		if !res.Success {
			w.WriteHeader(http.StatusBadRequest)
		}
		_ = json.NewEncoder(w).Encode(res)
	})
}

// validateExtra checks what parseConfig leaves to start-up: the log
// settings and that the TLS and CA files load.
func validateExtra(cfg config) error {
	if _, err := newLogger(cfg, io.Discard, new(slog.LevelVar)); err != nil {
		return err
	}
	if _, err := cfg.sec.serverOptions(); err != nil {
		return err
	}
	_, err := cfg.sec.modelDialOptions()
	return err
}

// checkConfig is --check-config: it validates everything start-up would
// short of opening listeners and the model, and reports.
func checkConfig(cfg config, w io.Writer) error {
	// parseConfig reported the flags', the file's, the breaker's and the
	// policies' problems together; these need files and the logger.
	if err := validateExtra(cfg); err != nil {
		return err
	}
	src := "flags and environment"
	if cfg.configFile != "" {
		src = cfg.configFile
	}
	_, err := fmt.Fprintf(w, "configuration valid: %s\n", src)
	return err
}
