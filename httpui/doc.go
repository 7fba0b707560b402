// Package httpui serves the live breaker page at / on the HTTP port: every
// circuit breaker with its state, operator override (reason, expiry),
// failure ratio, recent transitions and a sparkline of the calls it sent
// to the heuristic (refused plus failed, per second), in the spirit of the
// Hystrix dashboard.
//
// The page updates itself through server-sent events at /events: a full
// state every tick (one second by default) and, at once, every transition
// published by the same hub that feeds BreakerAdmin.WatchBreakers. The
// HTML, script and style are embedded (embed.FS); the page loads nothing
// from elsewhere, so it works air-gapped and under a strict
// Content-Security-Policy, which it sets.
//
// httpui does no authorization or TLS itself: the caller serves it on the
// HTTP listener (with its TLS settings) and wraps it with the admin read
// authorization (server.AdminAuth.ProtectReadsHTTP in cmd/astraguard).
//
// A UI is safe for concurrent use. Each /events stream runs in its
// request's goroutine and ends when the client leaves or the hub closes.
// No API stability promise.
package httpui
