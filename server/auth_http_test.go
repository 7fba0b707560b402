package server

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/internal/tlstest"
)

func TestProtectReadsHTTP(t *testing.T) {
	const token = "0123456789abcdef0123"
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	tests := []struct {
		name   string
		cfg    AuthConfig
		remote string
		header string
		want   int
	}{
		{"reads open by default", AuthConfig{Token: []byte(token)}, "192.0.2.1:1234", "", http.StatusOK},
		{"no credentials configured, loopback", AuthConfig{ProtectReads: true}, "127.0.0.1:1234", "", http.StatusOK},
		{"no credentials configured, remote", AuthConfig{ProtectReads: true}, "192.0.2.1:1234", "", http.StatusForbidden},
		{"right token", AuthConfig{Token: []byte(token), ProtectReads: true}, "192.0.2.1:1234", "Bearer " + token, http.StatusOK},
		{"right token, lowercase scheme", AuthConfig{Token: []byte(token), ProtectReads: true}, "192.0.2.1:1234", "bearer " + token, http.StatusOK},
		{"wrong token", AuthConfig{Token: []byte(token), ProtectReads: true}, "192.0.2.1:1234", "Bearer nope-nope-nope-nope", http.StatusUnauthorized},
		{"no token, even from loopback", AuthConfig{Token: []byte(token), ProtectReads: true}, "127.0.0.1:1234", "", http.StatusUnauthorized},
		{"basic auth is not a token", AuthConfig{Token: []byte(token), ProtectReads: true}, "192.0.2.1:1234", "Basic " + token, http.StatusUnauthorized},
		{"unverified TLS names nobody", AuthConfig{AllowedIdentities: []string{"ops"}, ProtectReads: true}, "192.0.2.1:1234", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAdminAuth(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			a.ProtectReadsHTTP(ok).ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d (%s)", w.Code, tt.want, w.Body.String())
			}
			if w.Code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without a WWW-Authenticate challenge")
			}
		})
	}
}

// TestAdminAuthHTTPHandler: POST /-/reload takes BreakerAdmin's rules.
func TestAdminAuthHTTPHandler(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	open, err := NewAdminAuth(AuthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const token = "0123456789abcdef0123"
	withToken, err := NewAdminAuth(AuthConfig{Token: []byte(token)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		a      *AdminAuth
		remote string
		authz  string
		want   int
	}{
		{"loopback without credentials configured", open, "127.0.0.1:5555", "", http.StatusNoContent},
		{"ipv6 loopback", open, "[::1]:5555", "", http.StatusNoContent},
		{"remote without credentials configured", open, "10.0.0.7:5555", "", http.StatusForbidden},
		{"garbled peer address", open, "nonsense", "", http.StatusForbidden},
		{"token required", withToken, "127.0.0.1:5555", "", http.StatusUnauthorized},
		{"wrong token", withToken, "10.0.0.7:5555", "Bearer nope-nope-nope-nope", http.StatusUnauthorized},
		{"right token", withToken, "10.0.0.7:5555", "Bearer " + token, http.StatusNoContent},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/-/reload", nil)
		r.RemoteAddr = tt.remote
		if tt.authz != "" {
			r.Header.Set("Authorization", tt.authz)
		}
		w := httptest.NewRecorder()
		tt.a.HTTPHandler(ok).ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: status %d (%s), want %d", tt.name, w.Code, w.Body.String(), tt.want)
		}
		// A refusal without credentials names what was refused (it said
		// "reading the breakers" for every endpoint).
		if tt.authz == "" && w.Code != http.StatusNoContent && !strings.Contains(w.Body.String(), "POST /-/reload") {
			t.Errorf("%s: refusal %q does not name POST /-/reload", tt.name, w.Body.String())
		}
	}
}

// TestIdentityCAs: with IdentityCAs (the admin listener's client CA), a
// certificate verified by another CA (the HTTP port's --tls-client-ca)
// that names an allowed identity is refused on POST /-/reload and over
// gRPC alike; one from the admin CA with the same name is allowed.
// Without IdentityCAs the data-plane certificate passed for the
// operator on the HTTP port.
func TestIdentityCAs(t *testing.T) {
	adminCA, dataCA := tlstest.NewCA(t, "admin"), tlstest.NewCA(t, "data")
	ops := tlstest.Identity{CN: "ops", DNS: []string{"ops.example.org"}}
	good := loadLeaf(t, adminCA.ClientFor(t, "ops", ops))
	forged := loadLeaf(t, dataCA.ClientFor(t, "forged", ops))
	pem, err := os.ReadFile(adminCA.File)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	a, err := NewAdminAuth(AuthConfig{AllowedIdentities: []string{"ops.example.org"}, IdentityCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tt := range []struct {
		name     string
		leaf     *x509.Certificate
		wantHTTP int
		wantGRPC codes.Code
	}{
		{"admin CA", good, http.StatusNoContent, codes.OK},
		{"other CA, same name", forged, http.StatusForbidden, codes.PermissionDenied},
	} {
		state := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tt.leaf}, VerifiedChains: [][]*x509.Certificate{{tt.leaf}}}
		r := httptest.NewRequest(http.MethodPost, "/-/reload", nil)
		r.RemoteAddr, r.TLS = "10.1.2.3:1", state
		w := httptest.NewRecorder()
		a.HTTPHandler(ok).ServeHTTP(w, r)
		if w.Code != tt.wantHTTP {
			t.Errorf("%s: POST /-/reload = %d (%s), want %d", tt.name, w.Code, w.Body.String(), tt.wantHTTP)
		}
		ctx := peer.NewContext(t.Context(), &peer.Peer{
			Addr:     &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 1},
			AuthInfo: credentials.TLSInfo{State: *state},
		})
		if _, err := a.authenticate(ctx); status.Code(err) != tt.wantGRPC {
			t.Errorf("%s: authenticate() = %v, want %v", tt.name, err, tt.wantGRPC)
		}
	}
}

// TestAuthorizeDataHTTP: the anomaly data (series ids and values) takes
// the admin authorization whenever any admin credential is configured,
// without ProtectReads; with none configured it is as open as the page.
func TestAuthorizeDataHTTP(t *testing.T) {
	const token = "0123456789abcdef0123"
	tests := []struct {
		name   string
		cfg    AuthConfig
		remote string
		header string
		want   int
	}{
		{"no credentials configured", AuthConfig{}, "192.0.2.1:1234", "", 0},
		{"token configured, none sent", AuthConfig{Token: []byte(token)}, "192.0.2.1:1234", "", http.StatusUnauthorized},
		{"token configured, none sent from loopback", AuthConfig{Token: []byte(token)}, "127.0.0.1:1234", "", http.StatusUnauthorized},
		{"token configured and sent", AuthConfig{Token: []byte(token)}, "192.0.2.1:1234", "Bearer " + token, 0},
		{"identity configured, no certificate", AuthConfig{AllowedIdentities: []string{"ops"}}, "192.0.2.1:1234", "", http.StatusUnauthorized},
		{"reads protected, no credentials configured, remote", AuthConfig{ProtectReads: true}, "192.0.2.1:1234", "", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAdminAuth(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/api/anomalies", nil)
			r.RemoteAddr = tt.remote
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if code, msg := a.AuthorizeDataHTTP(r); code != tt.want {
				t.Errorf("AuthorizeDataHTTP = %d %q, want %d", code, msg, tt.want)
			}
		})
	}
}
