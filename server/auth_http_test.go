package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
	}
}
