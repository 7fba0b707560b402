package server

import (
	"crypto/x509"
	"net/http"
	"net/netip"
	"strings"
)

// ProtectReadsHTTP guards a read-only HTTP view of the breakers (the
// breaker page at / on the HTTP port) with the rule AdminAuth applies to
// ListBreakers, GetBreaker and WatchBreakers: open unless ProtectReads is
// set; then a verified client certificate with an allowed identity or an
// "Authorization: Bearer TOKEN" header, or, with no credentials
// configured, a loopback peer. Refusals are 401 (no or wrong credentials,
// with a WWW-Authenticate challenge) or 403 (known but not allowed).
func (a *AdminAuth) ProtectReadsHTTP(next http.Handler) http.Handler {
	if !a.protectAll {
		return next
	}
	return a.HTTPHandler(next)
}

// AuthorizeDataHTTP returns 0 when r may see the scored data over HTTP
// (the breaker page's anomaly feed and a series' recent samples: series
// ids and values, the clients' telemetry), else an HTTP status and a
// message that never echoes a credential. The data is more sensitive
// than the breaker reads: whenever an admin token or allowed identity is
// configured (or ProtectReads is set), it takes the admin authorization
// of authorizeHTTP. With neither there is no credential to ask for, and
// it is as open as the rest of the page.
func (a *AdminAuth) AuthorizeDataHTTP(r *http.Request) (int, string) {
	if !a.protectAll && !a.hasToken && !a.hasIdentities() {
		return 0, ""
	}
	return a.authorizeHTTP(r)
}

// authorizeHTTP returns 0 when r is authorized, else an HTTP status and
// a message that never echoes a credential.
func (a *AdminAuth) authorizeHTTP(r *http.Request) (int, string) {
	if !a.hasToken && !a.hasIdentities() {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && ap.Addr().Unmap().IsLoopback() {
			return 0, ""
		}
		return http.StatusForbidden, what(r) + " is open to loopback peers only until an admin token or allowed client identity is configured"
	}
	var chain []*x509.Certificate
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.PeerCertificates) > 0 {
		chain = r.TLS.PeerCertificates
	}
	if _, ok := a.allowedCert(chain); ok {
		return 0, ""
	}
	scheme, token, hasAuth := strings.Cut(r.Header.Get("Authorization"), " ")
	bearer := hasAuth && strings.EqualFold(scheme, "bearer")
	if bearer && a.tokenMatches(token) {
		return 0, ""
	}
	switch {
	case len(chain) > 0:
		return http.StatusForbidden, "client certificate " + certName(chain[0]) + " is not allowed: " + what(r)
	case bearer:
		return http.StatusUnauthorized, "invalid bearer token"
	}
	return http.StatusUnauthorized, what(r) + " needs " + a.accepted()
}

// what names the refused request in a denial: its method and path (the
// breaker page, /-/reload, /debug/pprof/...), never its query.
func what(r *http.Request) string { return r.Method + " " + r.URL.Path }

// HTTPHandler guards an admin HTTP endpoint (POST /-/reload) always, with
// the rules of BreakerAdmin's mutations (see authorizeHTTP): loopback
// peers only without credentials, else an allowed verified client
// certificate or the bearer token. Refusals are 401 or 403 and never echo
// a credential.
func (a *AdminAuth) HTTPHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, msg := a.authorizeHTTP(r); code != 0 {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="astraguard"`)
			}
			http.Error(w, msg, code)
			return
		}
		next.ServeHTTP(w, r)
	})
}
