// Package httpui serves the live page at / on the HTTP port: every
// circuit breaker with its state, operator override (reason, expiry),
// failure ratio, recent transitions and a sparkline of the calls it sent
// to the heuristic (refused plus failed, per second), in the spirit of the
// Hystrix dashboard; beside them the verdicts per second by source and
// fallback reason; and, with WithAnomalies, the anomaly view: a feed of
// the most recent anomalies and a chart of a flagged series' recent
// context (value, expected band, flags, heuristic verdicts).
//
// The page updates itself through server-sent events at /events: a full
// state every tick (one second by default) and, at once, every transition
// published by the same hub that feeds BreakerAdmin.WatchBreakers, plus
// the anomalies that are new since the stream's last tick. The history
// behind the sparklines and the traffic chart is kept here, not in the
// browser: Run takes one step per tick for an hour (bounded: see
// history.go), /api/history serves it and each state event repeats its
// last steps, so a reload keeps the last hour. The anomaly data comes as
// JSON from the Anomalies implementation (internal/anomalyview), which
// httpui relays without knowing the detector's types.
//
// The HTML, script and style are embedded (embed.FS) and the page draws
// its charts itself (SVG); it loads nothing from elsewhere, so it works
// air-gapped and under a strict Content-Security-Policy, which it sets.
//
// httpui does no authorization or TLS itself: the caller serves it on the
// HTTP listener (with its TLS settings) and wraps it with the admin read
// authorization (server.AdminAuth.ProtectReadsHTTP in cmd/astraguard).
//
// A UI is safe for concurrent use. Each /events stream runs in its
// request's goroutine and ends when the client leaves or the hub closes;
// Run runs in its caller's goroutine until its context ends.
// No API stability promise.
package httpui
