package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
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
	// authorized: a URI SAN (e.g. "spiffe://example.org/ops"), a DNS SAN
	// or the subject common name of a certificate the TLS layer verified
	// (mutual TLS).
	AllowedIdentities []string
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
	identities []string
	protectAll bool
}

// NewAdminAuth validates cfg and returns the authorizer.
func NewAdminAuth(cfg AuthConfig) (*AdminAuth, error) {
	a := &AdminAuth{protectAll: cfg.ProtectReads}
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
		if strings.TrimSpace(id) == "" {
			return nil, errors.New("admin allowed identity: empty")
		}
		a.identities = append(a.identities, id)
	}
	return a, nil
}

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
	if !a.hasToken && len(a.identities) == 0 {
		if isLoopback(p) {
			return withCaller(ctx, "loopback peer (no admin credentials configured)"), nil
		}
		return nil, status.Error(codes.PermissionDenied,
			"admin calls are open to loopback peers only until an admin token or allowed client identity is configured")
	}
	ids, verified := certIdentities(p)
	for _, id := range ids {
		if slices.Contains(a.identities, id) {
			return withCaller(ctx, "client certificate "+id), nil
		}
	}
	token, mdErr := auth.AuthFromMD(ctx, "bearer")
	if mdErr == nil && a.tokenMatches(token) {
		return withCaller(ctx, "bearer token"), nil
	}
	switch {
	case verified:
		return nil, status.Errorf(codes.PermissionDenied, "client certificate %q is not allowed to call BreakerAdmin", ids[0])
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
	case a.hasToken && len(a.identities) > 0:
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

// certIdentities lists the identities of the peer's leaf certificate, URI
// SANs first, then DNS SANs, then the common name, if the TLS layer
// verified it; an unverified certificate names nobody.
func certIdentities(p *peer.Peer) (ids []string, verified bool) {
	if p == nil {
		return nil, false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.PeerCertificates) == 0 {
		return nil, false
	}
	leaf := info.State.PeerCertificates[0]
	for _, u := range leaf.URIs {
		ids = append(ids, u.String())
	}
	ids = append(ids, leaf.DNSNames...)
	if leaf.Subject.CommonName != "" {
		ids = append(ids, leaf.Subject.CommonName)
	}
	if len(ids) == 0 {
		ids = []string{"(no name)"}
	}
	return ids, true
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
