// Package tlsconf builds crypto/tls configurations from PEM files for the
// AstraGuard binaries: a server configuration with optional client
// certificate verification (mutual TLS), and a client configuration with a
// CA, an optional client certificate and a server name override.
//
// Both require TLS 1.2 or newer. The serving or client certificate is
// re-read when its files change, so a rotated certificate takes effect
// without a restart; CA bundles are read once, and one holding a block
// that does not decode or a certificate that does not parse is refused
// (x509.CertPool.AppendCertsFromPEM drops them silently). The files are
// checked (two stats) at most once a second, by a handshake, and never
// under a lock other handshakes wait on. A rotation that leaves the files half-written
// keeps the previous pair until the files parse again, as does one to a
// certificate expired or not valid yet (the latter is installed once it
// becomes valid); files that failed to parse are not parsed again until
// they change. Such a failed reload is
// logged at WARN and counted in astraguard_tls_reload_errors_total (see
// WithLogger, WithRegisterer), once per distinct failure.
//
// Errors name files, never their contents. No API stability promise.
//
// Concurrency: the returned configurations are safe for concurrent use.
package tlsconf
