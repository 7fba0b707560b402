package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// MinTokenBytes is the shortest admin token AdminAuth accepts: 16 bytes
// leave a guessable token out; `openssl rand -hex 32` gives 64.
const MinTokenBytes = 16

// AuthConfig says who may call BreakerAdmin. The zero value leaves
// mutations open to loopback peers only.
type AuthConfig struct {
	// Token, when set, is a bearer token that authorizes admin calls
	// ("authorization: Bearer TOKEN" metadata). NewAdminAuth keeps only
	// its SHA-256 digest.
	Token []byte
	// AllowedIdentities are the client-certificate identities that are
	// authorized, matched by type against a certificate the TLS layer
	// verified (mutual TLS):
	//   - one with "://" (e.g. "spiffe://example.org/ops") matches a URI
	//     SAN only, never a DNS SAN or the common name;
	//   - any other matches a DNS SAN, or the subject common name of a
	//     certificate that has no SAN at all (as Go's old hostname
	//     verification did).
	// So a certificate whose requester picked the common name
	// "spiffe://example.org/ops" is not that SPIFFE ID, and a certificate
	// with SANs is never known by its common name.
	AllowedIdentities []string
	// IdentityCAs, when set, are the CAs a certificate must also chain
	// to for its identity to count, whatever CA the listener verified it
	// against: the admin listener's own client CA, so that on a listener
	// verifying clients against another (the HTTP port's --tls-client-ca,
	// POST /-/reload and the profiler), a certificate that CA issued
	// under an operator's name is not that operator.
	IdentityCAs *x509.CertPool
	// ProtectReads applies the same authorization to ListBreakers,
	// GetBreaker and WatchBreakers; by default they are open to every
	// client that can connect. Every other BreakerAdmin method, present
	// or future, is always protected.
	ProtectReads bool
}

// AdminAuth authorizes BreakerAdmin calls. The rules, in order:
//
//   - With neither a token nor an allowed identity configured, protected
//     calls are allowed from loopback peers only; others get
//     PERMISSION_DENIED. This keeps a bare local run usable without
//     exposing mutations to the network. A local proxy that forwards
//     remote clients defeats it: configure credentials behind one.
//   - A verified client certificate with an allowed identity, or a bearer
//     token equal to the configured one, is authorized.
//   - A verified client certificate that is not allowed is
//     PERMISSION_DENIED: the caller is known, but not authorized.
//   - Anything else (no credentials, a wrong or malformed token, a token
//     when none is configured) is UNAUTHENTICATED.
//
// Tokens are compared as SHA-256 digests in constant time, so neither
// their content nor their length leaks through timing. No token appears in
// an error or a log. AdminAuth is safe for concurrent use.
type AdminAuth struct {
	digest     [sha256.Size]byte
	hasToken   bool
	uris       []string // allowed URI SANs
	names      []string // allowed DNS SANs, or common names of certificates without SANs
	cas        *x509.CertPool
	protectAll bool
}

// NewAdminAuth validates cfg and returns the authorizer.
func NewAdminAuth(cfg AuthConfig) (*AdminAuth, error) {
	a := &AdminAuth{protectAll: cfg.ProtectReads, cas: cfg.IdentityCAs}
	if len(cfg.Token) > 0 {
		if len(cfg.Token) < MinTokenBytes {
			return nil, fmt.Errorf("admin token: %d bytes, want at least %d", len(cfg.Token), MinTokenBytes)
		}
		if strings.ContainsFunc(string(cfg.Token), func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, errors.New("admin token: contains spaces or control characters")
		}
		a.digest, a.hasToken = sha256.Sum256(cfg.Token), true
	}
	for _, id := range cfg.AllowedIdentities {
		switch {
		case strings.TrimSpace(id) == "":
			return nil, errors.New("admin allowed identity: empty")
		case strings.Contains(id, "://"):
			u, err := url.Parse(id)
			if err != nil || u.Scheme == "" {
				return nil, fmt.Errorf("admin allowed identity %q: not a URI", id)
			}
			// Kept as url.URL prints it, the form allowedCert gives
			// the certificate's URI SANs in.
			a.uris = append(a.uris, u.String())
		default:
			a.names = append(a.names, id)
		}
	}
	return a, nil
}

func (a *AdminAuth) hasIdentities() bool { return len(a.uris)+len(a.names) > 0 }

// UnaryServerInterceptor checks protected BreakerAdmin calls.
func (a *AdminAuth) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(a.authenticate), selector.MatchFunc(a.protects))
}

// StreamServerInterceptor checks protected BreakerAdmin streams.
func (a *AdminAuth) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return selector.StreamServerInterceptor(auth.StreamServerInterceptor(a.authenticate), selector.MatchFunc(a.protects))
}

var adminReads = []string{
	astraguardv1.BreakerAdmin_ListBreakers_FullMethodName,
	astraguardv1.BreakerAdmin_GetBreaker_FullMethodName,
	astraguardv1.BreakerAdmin_WatchBreakers_FullMethodName,
}

// protects is deny-by-default within BreakerAdmin: only the known
// read-only methods may be left open.
func (a *AdminAuth) protects(_ context.Context, cm interceptors.CallMeta) bool {
	m := cm.FullMethod()
	if !strings.HasPrefix(m, "/"+astraguardv1.BreakerAdmin_ServiceDesc.ServiceName+"/") {
		return false
	}
	return a.protectAll || !slices.Contains(adminReads, m)
}

func (a *AdminAuth) authenticate(ctx context.Context) (context.Context, error) {
	p, _ := peer.FromContext(ctx)
	if !a.hasToken && !a.hasIdentities() {
		if isLoopback(p) {
			return withCaller(ctx, "loopback peer (no admin credentials configured)"), nil
		}
		return nil, status.Error(codes.PermissionDenied,
			"admin calls are open to loopback peers only until an admin token or allowed client identity is configured")
	}
	chain := verifiedChain(p)
	if id, ok := a.allowedCert(chain); ok {
		return withCaller(ctx, "client certificate "+id), nil
	}
	token, mdErr := auth.AuthFromMD(ctx, "bearer")
	if mdErr == nil && a.tokenMatches(token) {
		return withCaller(ctx, "bearer token"), nil
	}
	switch {
	case len(chain) > 0:
		return nil, status.Errorf(codes.PermissionDenied, "client certificate %q is not allowed to call BreakerAdmin", certName(chain[0]))
	case mdErr == nil:
		return nil, status.Error(codes.Unauthenticated, "invalid bearer token")
	}
	return nil, status.Error(codes.Unauthenticated, "BreakerAdmin call needs "+a.accepted())
}

func (a *AdminAuth) tokenMatches(token string) bool {
	if !a.hasToken {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], a.digest[:]) == 1
}

func (a *AdminAuth) accepted() string {
	switch {
	case a.hasToken && a.hasIdentities():
		return "a bearer token or an allowed client certificate"
	case a.hasToken:
		return `"authorization: Bearer TOKEN" metadata`
	}
	return "an allowed client certificate (mutual TLS)"
}

func isLoopback(p *peer.Peer) bool {
	if p == nil || p.Addr == nil {
		return false
	}
	ap, err := netip.ParseAddrPort(p.Addr.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// verifiedChain returns the peer's certificates, leaf first, if the TLS
// layer verified them; an unverified certificate names nobody.
func verifiedChain(p *peer.Peer) []*x509.Certificate {
	if p == nil {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.PeerCertificates) == 0 {
		return nil
	}
	return info.State.PeerCertificates
}

// allowedCert matches the leaf of a verified chain against the allowed
// identities by type (see AuthConfig.AllowedIdentities) and returns the
// identity that matched; with IdentityCAs the chain must verify against
// them too.
func (a *AdminAuth) allowedCert(chain []*x509.Certificate) (string, bool) {
	if len(chain) == 0 {
		return "", false
	}
	id, ok := a.matchIdentity(chain[0])
	if !ok || a.cas == nil {
		return id, ok
	}
	opts := x509.VerifyOptions{Roots: a.cas, Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := chain[0].Verify(opts); err != nil {
		return "", false
	}
	return id, true
}

func (a *AdminAuth) matchIdentity(leaf *x509.Certificate) (string, bool) {
	for _, u := range leaf.URIs {
		if id := u.String(); slices.Contains(a.uris, id) {
			return id, true
		}
	}
	for _, d := range leaf.DNSNames {
		if slices.Contains(a.names, d) {
			return d, true
		}
	}
	cn := leaf.Subject.CommonName
	if !hasSANs(leaf) && cn != "" && slices.Contains(a.names, cn) {
		return cn, true
	}
	return "", false
}

func hasSANs(c *x509.Certificate) bool {
	return len(c.URIs)+len(c.DNSNames)+len(c.IPAddresses)+len(c.EmailAddresses) > 0
}

// certName names a certificate in a denial: its first URI SAN, else its
// first DNS SAN, else its common name.
func certName(c *x509.Certificate) string {
	switch {
	case len(c.URIs) > 0:
		return c.URIs[0].String()
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	}
	return "(no name)"
}

type callerKey struct{}

func withCaller(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, callerKey{}, who)
}

// callerFrom names who AdminAuth authorized, for the audit log.
func callerFrom(ctx context.Context) string {
	if who, ok := ctx.Value(callerKey{}).(string); ok {
		return who
	}
	return "unauthenticated (no admin authorization configured)"
}
