package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/breaker/breakergrpc"
	"github.com/astraguard/astraguard/breaker/breakerprom"
	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/anomalyview"
	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/httpserver"
	"github.com/astraguard/astraguard/internal/httpui"
	"github.com/astraguard/astraguard/internal/store"
	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tracelog"
	"github.com/astraguard/astraguard/server"
)

// modelBreaker names the breaker that guards the model.
const modelBreaker = "model"

// app is the wired service.
type app struct {
	cfg       config
	logger    *slog.Logger
	logLevel  *slog.LevelVar // set by reloads
	reloader  *reloader
	adminAuth *server.AdminAuth // the admin rules, for POST /-/reload and pprof too
	reg       *prometheus.Registry
	srv       *server.Server
	closers   []func() error
	ready     atomic.Bool
	recheck   chan struct{} // model readiness re-checks asked for by the breaker
	checker   readyChecker  // nil for the embedded model
	det       *detector.Detector
	modelGate *breaker.Breaker
	grpcLis   net.Listener
	httpLis   net.Listener
	adminLis  net.Listener       // nil unless --admin-addr
	httpTLS   *tls.Config        // nil: plaintext HTTP
	keeper    *checkpoint.Keeper // nil without --state-dir
	page      http.Handler       // the breaker page at / (httpui), behind the admin read authorization
	ui        *httpui.UI         // the page, whose Run keeps its charts' history
	breakers  *breaker.Registry
	handover  handover // off without --handover-dir
}

// newLogger builds the logger; its level is lvl, which a reload may change.
func newLogger(cfg config, w io.Writer, lvl *slog.LevelVar) (*slog.Logger, error) {
	if err := lvl.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	ho := &slog.HandlerOptions{Level: lvl}
	// tracelog adds the trace and span ids of the request being handled.
	switch cfg.logFormat {
	case "json":
		return slog.New(tracelog.New(slog.NewJSONHandler(w, ho))), nil
	case "text":
		return slog.New(tracelog.New(slog.NewTextHandler(w, ho))), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", cfg.logFormat)
}

// newApp wires config → logger → registry → breakers → model → detector →
// server, and opens the listeners so a port clash fails at start. Each
// collaborator is built once. What it opens goes on a.closers, which one
// deferred cleanup runs (newest first) when a later step fails.
func newApp(ctx context.Context, cfg config, stderr io.Writer) (_ *app, err error) {
	logLevel := new(slog.LevelVar)
	logger, err := newLogger(cfg, stderr, logLevel)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, logger: logger, logLevel: logLevel, reg: prometheus.NewRegistry(), recheck: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	tr, err := newTracing(ctx, logger)
	if err != nil {
		return nil, err
	}
	a.onClose(func() error { return tr.Shutdown(context.Background()) })
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	settings := cfg.breaker // merged and checked by withFile
	hub := server.NewHub()
	view, err := newAnomalyView(cfg)
	if err != nil {
		return nil, err
	}
	// Failed certificate reloads would otherwise go unnoticed until the
	// old certificate expires.
	tlsOpts := []tlsconf.Option{tlsconf.WithLogger(logger.With("component", "tls")), tlsconf.WithRegisterer(a.reg)}
	sec, err := cfg.sec.serverOptions(tlsOpts...)
	if err != nil {
		return nil, err
	}
	ui := httpui.New(hub, httpui.WithLogger(logger.With("component", "httpui")), httpui.WithAnomalies(view),
		httpui.WithAnomalyAccess(sec.auth.AuthorizeDataHTTP), // series ids and values: admin credentials once any exist
		// The page's event streams count against the WatchBreakers bounds,
		// per client as gRPC peers are counted.
		httpui.WithClientKey(func(r *http.Request) string { return server.AddrKey(r.RemoteAddr) }))
	breakers, err := breaker.NewRegistry(settings,
		breaker.WithObserver(ui.Record), // before hub.Publish: a page sees a transition in the history it announces
		breaker.WithObserver(hub.Publish),
		breaker.WithClassifier(breakergrpc.Classify),
		breaker.WithObserver(func(t breaker.Transition) {
			logger.Info("breaker transition", "breaker", t.Name, "from", t.From.String(), "to", t.To.String(), "reason", t.Reason)
			if t.Name == modelBreaker && t.To == breaker.StateHalfOpen {
				a.askRecheck()
			}
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("breakers: %w", err)
	}
	a.ui, a.breakers = ui, breakers
	a.reg.MustRegister(breakerprom.NewCollector(breakers))
	gate := breakers.Breaker(modelBreaker)
	a.modelGate = gate

	loadErrors := promauto.With(a.reg).NewCounter(prometheus.CounterOpts{
		Name: "astraguard_anomaly_model_load_errors_total",
		Help: "Failed model loads and readiness or metadata checks.",
	})
	remote, closeModel, err := newModel(ctx, cfg, logger, loadErrors, tlsOpts, tr)
	if err != nil {
		return nil, err
	}
	a.onClose(closeModel)
	if remote != nil {
		a.checker = remote
	}
	polList, pols := cfg.policyList, cfg.policies
	// The policies carry the operating limits (the seed's by default), so
	// the heuristic keeps none of its own.
	heur, err := heuristic.New(heuristic.Config{NoPreset: true})
	if err != nil {
		return nil, err
	}
	det, err := newDetector(cfg, remote, gate, loadErrors,
		detector.WithHeuristic(heur),
		detector.WithLogger(logger.With("component", "detector")),
		detector.WithRegisterer(a.reg),
		detector.WithRejectReason(rejectReason),
		detector.WithAdopter(&a.handover),
	)
	if err != nil {
		return nil, err
	}
	a.det = det
	det.SetPolicies(pols)
	admin := server.NewAdminService(breakers, hub, logger.With("component", "admin"))
	// One AdminAuth: the gRPC admin service, the page's reads, POST
	// /-/reload and the profiler follow the same rules.
	a.httpTLS, a.adminAuth = sec.httpTLS, sec.auth
	a.page = sec.auth.ProtectReadsHTTP(ui.Handler(breakers))
	a.srv, err = server.New(det, admin, cfg.limits, append([]server.Option{
		server.WithLogger(logger.With("component", "grpc")),
		server.WithRegisterer(a.reg),
		server.WithVerdictObserver(view),
		server.WithTracing(server.Tracing{Provider: tr.Provider, Propagators: tr.Propagators, IDsOnly: !tr.Exporting,
			BreakerState: func() string { return gate.State().String() }}),
	}, sec.opts...)...)
	if err != nil {
		return nil, err
	}
	sig := checkpoint.Signature(stateVersion, det.StateSignature())
	a.keeper, err = newKeeper(cfg, logger, a.reg, sig, map[string]checkpoint.Part{
		"series":   det.StatePart(),
		"breakers": breakerPart{reg: breakers, logger: logger.With("component", "checkpoint"), now: time.Now},
	}, seriesBounds(cfg, det))
	if err != nil {
		return nil, err
	}
	// A reload applies these live; any other change needs a restart.
	a.reloader = newReloader(cfg, logger.With("component", "config"), a.reg,
		logLevelApplier(cfg, logLevel), breakerApplier(gate, settings), policiesApplier(det, polList))
	if err := a.handover.start(cfg, logger, a.reg, sig, det.StatePart(), seriesBounds(cfg, det), det.LaterRecord); err != nil {
		return nil, err
	}
	if a.keeper != nil {
		a.keeper.Restore(ctx) // before serving: the first verdict already sees the restored state
	}
	if err := a.listen(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// newAnomalyView sizes the page's anomaly view; --anomaly-view-series=0
// turns its feed and charts off (the traffic is still counted).
func newAnomalyView(cfg config) (*anomalyview.View, error) {
	c := cfg.anomalyView
	c.Off = c.Series == 0
	return anomalyview.New(c)
}

// rejectReason tells the verdicts why the breaker said no.
func rejectReason(err error) detector.Reason {
	switch {
	case errors.Is(err, breaker.ErrForcedOpen):
		return detector.ReasonForcedOpen
	case errors.Is(err, breaker.ErrTooManyProbes):
		return detector.ReasonProbeLimit
	}
	return detector.ReasonBreakerOpen
}

// listen opens the listeners; each goes on a.closers (the servers close
// them first when they stop, so the cleanup finds them closed).
func (a *app) listen(ctx context.Context) error {
	var lc net.ListenConfig
	for _, l := range []struct {
		name, addr string
		lis        *net.Listener
	}{
		{"grpc", a.cfg.grpcAddr, &a.grpcLis},
		{"http", a.cfg.httpAddr, &a.httpLis},
		{"admin", a.cfg.sec.adminAddr, &a.adminLis},
	} {
		if l.addr == "" { // only grpc is required; validate checked it
			continue
		}
		lis, err := lc.Listen(ctx, "tcp", l.addr)
		if err != nil {
			return fmt.Errorf("%s listen: %w", l.name, err)
		}
		*l.lis = lis
		a.onClose(func() error {
			if err := lis.Close(); !errors.Is(err, net.ErrClosed) {
				return err
			}
			return nil
		})
	}
	return nil
}

func (a *app) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg, EnableOpenMetrics: true}))
	mux.Handle("/", a.page)
	mux.Handle("POST /-/reload", a.adminAuth.HTTPHandler(a.reloader.handler()))
	// Any other method: 405 naming POST, not the page's 404.
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: POST /-/reload", http.StatusMethodNotAllowed)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	// Go's profiler, as Prometheus and most Go servers serve it, behind
	// the reload's authorization: a profile shows internals and a CPU
	// profile costs CPU while it runs (at most maxProfileSeconds).
	for path, h := range profileHandlers() {
		mux.Handle(path, a.adminAuth.HTTPHandler(h))
	}
	return mux
}

// serve runs until ctx is done, then shuts down: health NOT_SERVING, a
// drain bounded by the grace period, then a hard stop.
func (a *app) serve(ctx context.Context) error {
	defer a.close()
	watch, err := a.reloader.startWatch(a.cfg)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	var hs *http.Server
	if a.httpLis != nil {
		hs = httpserver.New(a.httpHandler(), httpErrorLog(a.logger.With("component", "http")))
		g.Go(func() error {
			if err := a.serveHTTP(hs); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error { return a.srv.Serve(a.grpcLis) })
	if a.adminLis != nil {
		g.Go(func() error { return a.srv.ServeAdmin(a.adminLis) })
	}
	g.Go(func() error { a.recheckLoop(gctx); return nil })
	g.Go(func() error { a.ui.Run(gctx, a.breakers); return nil })
	g.Go(func() error { store.SweepEvery(gctx, a.cfg.seriesTTL, a.det.Sweep); return nil })
	g.Go(func() error { a.runCheckpoints(gctx); return nil })
	g.Go(func() error { return watch(gctx) })
	g.Go(func() error { a.handover.run(gctx, a.cfg.checkpointInterval); return nil })
	g.Go(func() error {
		<-gctx.Done()
		a.logger.Info("shutting down", "grace_period", a.cfg.gracePeriod.String())
		a.ready.Store(false)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.gracePeriod)
		defer cancel()
		a.srv.Shutdown(sctx)
		a.handover.final(context.WithoutCancel(ctx), a.logger)
		a.finalCheckpoint(context.WithoutCancel(ctx))
		if hs != nil {
			return hs.Shutdown(sctx)
		}
		return nil
	})
	a.srv.SetServing()
	a.ready.Store(true)
	a.logger.Info("serving", "grpc_addr", a.grpcLis.Addr().String(), "http_addr", addrOf(a.httpLis), "model", modelDesc(a.cfg),
		"admin_addr", addrOf(a.adminLis), "tls", a.cfg.sec.tlsCert != "", "mtls", a.cfg.sec.tlsClientCA != "",
		"admin_auth", a.cfg.sec.authMode(), "admin_read_auth", a.cfg.sec.adminReadAuth)
	if a.cfg.sec.adminToken != nil && a.cfg.sec.tlsCert == "" {
		// Refused at start beyond loopback unless --allow-plaintext-tokens.
		a.logger.Warn("the admin bearer token travels in clear text: whoever sees the traffic can copy it; set --tls-cert and --tls-key",
			"allow_plaintext_tokens", a.cfg.sec.allowPlaintextTokens)
	}
	return g.Wait()
}

// serveHTTP serves plaintext, or TLS (and mutual TLS with
// --tls-client-ca) with the gRPC listener's configuration.
func (a *app) serveHTTP(hs *http.Server) error {
	lis := a.srv.LimitListener(a.httpLis, "http")
	connlimit.DrainIdle(hs, lis) // idle keep-alive connections give way at the limit
	if a.httpTLS == nil {
		return hs.Serve(lis)
	}
	hs.TLSConfig = a.httpTLS
	return hs.ServeTLS(lis, "", "") // the certificate comes from TLSConfig.GetCertificate
}

// onClose pushes c on the cleanup stack that close runs.
func (a *app) onClose(c func() error) { a.closers = append(a.closers, c) }

// close releases what newApp opened, newest first: by serve when it
// returns, and by newApp itself when a later step fails.
func (a *app) close() {
	for _, c := range slices.Backward(a.closers) {
		if err := c(); err != nil {
			a.logger.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

// httpErrorLog routes net/http's own error log to logger. TLS handshake
// failures are routine on an exposed port (scanners, probes, clients
// without a certificate), so they go at Debug, where they cannot flood
// the log; the rest, such as accept errors, stays at Info.
func httpErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(httpErrorWriter{logger}, "", 0)
}

type httpErrorWriter struct{ logger *slog.Logger }

func (w httpErrorWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	lvl := slog.LevelInfo
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		lvl = slog.LevelDebug
	}
	w.logger.Log(context.Background(), lvl, msg)
	return len(p), nil
}

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

func modelDesc(cfg config) string {
	if cfg.modelAddr == "" {
		return "embedded"
	}
	return cfg.modelAddr
}

// readyChecker is the remote model client's readiness and metadata check.
type readyChecker interface {
	CheckReady(ctx context.Context) error
}

// askRecheck asks recheckLoop for a readiness check without blocking the
// breaker that calls it; a check already pending covers this one too.
func (a *app) askRecheck() {
	select {
	case a.recheck <- struct{}{}:
	default:
	}
}

// recheckLoop re-checks the remote model's readiness and metadata when the
// breaker starts probing it, so a model server that came back with another
// model is noticed (and counted in astraguard_anomaly_model_load_errors_total).
func (a *app) recheckLoop(ctx context.Context) {
	if a.checker == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.recheck:
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := a.checker.CheckReady(cctx); err != nil {
				a.logger.WarnContext(ctx, "model readiness check failed", "err", err)
			}
			cancel()
		}
	}
}
