package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
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

// liveKeys names the appliers newApp gives the reloader: the settings a
// reload applies to the running service (the docs' reload column).
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

// outcome is what an applier did with a new configuration.
type outcome int

const (
	unchanged    outcome = iota // its setting did not change
	applied                     // the running service uses the new value
	needsRestart                // changed, but takes effect at the next start
)

// applier applies one setting a reload may change live, as Prometheus's
// reloaders do: name is the key a reload reports it under. apply sees only
// a configuration validated whole, and remembers what it applied.
type applier struct {
	name  string
	apply func(next config) (outcome, error)
}

// logLevelApplier sets the log level.
func logLevelApplier(cfg config, lvl *slog.LevelVar) applier {
	cur := cfg.logLevel
	return applier{name: "log-level", apply: func(next config) (outcome, error) {
		if next.logLevel == cur {
			return unchanged, nil
		}
		if err := lvl.UnmarshalText([]byte(next.logLevel)); err != nil {
			return unchanged, err
		}
		cur = next.logLevel
		return applied, nil
	}}
}

// breakerApplier reconfigures the model breaker, running with settings;
// the breaker keeps its state, counts and override.
func breakerApplier(gate *breaker.Breaker, settings breaker.Settings) applier {
	return applier{name: "breakers." + modelBreaker, apply: func(next config) (outcome, error) {
		if reflect.DeepEqual(next.breaker, settings) {
			return unchanged, nil
		}
		if err := gate.Reconfigure(next.breaker); err != nil {
			return unchanged, err
		}
		settings = next.breaker
		return applied, nil
	}}
}

// policiesApplier swaps the detector's policies, running with list.
func policiesApplier(det *detector.Detector, list []detector.Policy) applier {
	return applier{name: "policies", apply: func(next config) (outcome, error) {
		if reflect.DeepEqual(next.policyList, list) {
			return unchanged, nil
		}
		det.SetPolicies(next.policies)
		list = next.policyList
		return applied, nil
	}}
}

// reloader reads the --config file again and applies it over the command
// line and environment read at start: it validates the whole result, then
// runs its appliers. Any other setting that changed is reported as
// needing a restart and not applied. It serializes reloads; the last good
// configuration stays in force when a reload fails.
type reloader struct {
	logger   *slog.Logger
	appliers []applier
	now      func() time.Time

	ok     prometheus.Gauge
	okTime prometheus.Gauge
	total  *prometheus.CounterVec
	mu     sync.Mutex
	start  config // the configuration started with, for the restart keys
	// startEmpty: --config was empty at start, so an empty file is what
	// the operator wrote, not a rewrite caught half-way.
	startEmpty bool
}

// newReloader starts from cfg, the configuration in force.
func newReloader(cfg config, logger *slog.Logger, reg prometheus.Registerer, appliers ...applier) *reloader {
	f := promauto.With(reg)
	r := &reloader{logger: logger, appliers: appliers, now: time.Now, start: cfg,
		startEmpty: cfg.file != nil && cfg.file.Empty(),
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
	return r
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
	if data == nil && r.start.configFile != "" {
		var err error
		if data, err = configfile.ReadFile(r.start.configFile); err != nil {
			return r.failed(res, err)
		}
	}
	if r.start.configFile != "" && len(bytes.TrimSpace(data)) == 0 && !r.startEmpty {
		res.Error = errEmptyFile.Error()
		r.ok.Set(0)
		r.total.WithLabelValues("failure").Inc()
		r.logger.Warn("config reload skipped", "trigger", trigger, "file", r.start.configFile, "err", errEmptyFile)
		return res
	}
	next, err := r.load(data)
	if err != nil {
		return r.failed(res, err)
	}
	live := map[string]bool{}
	for _, a := range r.appliers {
		live[a.name] = true
		out, err := a.apply(next)
		if err != nil {
			return r.failed(res, fmt.Errorf("%s: %w", a.name, err))
		}
		switch out {
		case applied:
			res.Applied = append(res.Applied, a.name)
		case needsRestart:
			res.NeedsRestart = append(res.NeedsRestart, a.name)
		}
	}
	for _, k := range restartKeys(r.start, next) {
		if !live[k] {
			res.NeedsRestart = append(res.NeedsRestart, k)
		}
	}
	slices.Sort(res.Applied)
	slices.Sort(res.NeedsRestart)
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

// load validates the new configuration as start-up would: data, the
// --config file's content, over the start's flags and environment.
func (r *reloader) load(data []byte) (config, error) {
	base := *r.start.base
	base.runningModelTimeout = r.start.modelTimeout
	next, err := base.withFile(data)
	if err == nil {
		err = validateExtra(next)
	}
	return next, err
}

// restartKeys lists the flag names whose values differ from the start's,
// and "admin token" when the token changed (by name only: its value is
// never reported). Those an applier owns are live, the rest need a
// restart.
func restartKeys(start, next config) []string {
	var keys []string
	for k, v := range next.effective {
		if start.effective[k] != v && k != "check-config" {
			keys = append(keys, k)
		}
	}
	if tokenDigest(start) != tokenDigest(next) {
		keys = append(keys, "admin token")
	}
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
	if err := checkDirs(cfg); err != nil {
		return err
	}
	src := "flags and environment"
	if cfg.configFile != "" {
		src = cfg.configFile
	}
	_, err := fmt.Fprintf(w, "configuration valid: %s\n", src)
	return err
}

// checkDirs refuses a --state-dir or --handover-dir that exists and is not
// a directory, which start-up would fail on; one not there yet is fine
// (start-up creates it) and is not created here.
func checkDirs(cfg config) error {
	var errs []error
	for _, d := range []struct{ flag, path string }{{"--state-dir", cfg.stateDir}, {"--handover-dir", cfg.handoverDir}} {
		if d.path == "" {
			continue
		}
		switch st, err := os.Stat(d.path); {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", d.flag, err))
		case !st.IsDir():
			errs = append(errs, fmt.Errorf("%s: %s is not a directory (%s)", d.flag, d.path, st.Mode().Type()))
		}
	}
	return errors.Join(errs...)
}
