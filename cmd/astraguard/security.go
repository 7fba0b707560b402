package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/astraguard/astraguard/internal/smallfile"
	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/server"
)

// maxTokenFileBytes bounds --admin-token-file: a token is a line.
const maxTokenFileBytes = 64 << 10

// adminTokenEnv carries the admin token for deployments that inject
// secrets as environment variables. There is deliberately no
// --admin-token flag: a flag's value shows in ps and shell history.
const adminTokenEnv = "ASTRAGUARD_ADMIN_TOKEN"

// securityConfig is the TLS and admin-authorization part of the command
// line.
type securityConfig struct {
	tlsCert, tlsKey, tlsClientCA string
	adminAddr                    string
	adminTLSClientCA             string
	adminTokenFile               string
	adminIdentities              identityList
	adminReadAuth                bool
	allowPlaintextTokens         bool
	modelTLS                     bool
	modelTLSCA                   string
	modelTLSCert, modelTLSKey    string
	modelTLSServerName           string
	// adminToken is read from adminTokenFile or ASTRAGUARD_ADMIN_TOKEN. A
	// pointer, so that printing a config with %v shows an address, not
	// the token.
	adminToken *secret
}

// secret is a credential that prints as "[redacted]".
type secret []byte

func (secret) String() string   { return "[redacted]" }
func (secret) GoString() string { return "[redacted]" }

// identityList is a repeatable, comma-separated flag value.
type identityList []string

func (l *identityList) String() string { return strings.Join(*l, ",") }

func (l *identityList) Set(v string) error {
	for id := range strings.SplitSeq(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*l = append(*l, id)
		}
	}
	return nil
}

func (s *securityConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&s.tlsCert, "tls-cert", "", "PEM certificate for the gRPC and HTTP listeners; with --tls-key turns on TLS (reloaded when the file changes)")
	fs.StringVar(&s.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&s.tlsClientCA, "tls-client-ca", "", "PEM CA bundle; when set, gRPC and HTTP clients must present a certificate it signed (mutual TLS)")
	fs.StringVar(&s.adminAddr, "admin-addr", "", "serve BreakerAdmin (with health and reflection) on this address only; empty serves it on --grpc-addr")
	fs.StringVar(&s.adminTLSClientCA, "admin-tls-client-ca", "", "client CA for the --admin-addr listener only (default --tls-client-ca)")
	fs.StringVar(&s.adminTokenFile, "admin-token-file", "", "file holding the bearer token that authorizes BreakerAdmin calls (or set "+adminTokenEnv+")")
	fs.Var(&s.adminIdentities, "admin-allowed-identity", "client-certificate identity authorized for BreakerAdmin; one with \"://\" (spiffe://example.org/ops) matches a URI SAN only, any other a DNS SAN, or the CN of a certificate without SANs; needs --tls-client-ca or --admin-tls-client-ca; repeatable or comma-separated; adds to ASTRAGUARD_ADMIN_ALLOWED_IDENTITY")
	fs.BoolVar(&s.adminReadAuth, "admin-read-auth", false, "require admin authorization for ListBreakers, GetBreaker and WatchBreakers too")
	fs.BoolVar(&s.allowPlaintextTokens, "allow-plaintext-tokens", false, "accept the admin token on listeners beyond loopback without TLS, where it crosses the network in clear text (e.g. behind a mesh that encrypts pod traffic); without it such a configuration is refused")
	fs.BoolVar(&s.modelTLS, "model-tls", false, "use TLS to the model server (implied by any other --model-tls-* flag); system roots unless --model-tls-ca")
	fs.StringVar(&s.modelTLSCA, "model-tls-ca", "", "PEM CA bundle that verifies the model server")
	fs.StringVar(&s.modelTLSCert, "model-tls-cert", "", "PEM client certificate presented to the model server (mutual TLS)")
	fs.StringVar(&s.modelTLSKey, "model-tls-key", "", "PEM private key of --model-tls-cert")
	fs.StringVar(&s.modelTLSServerName, "model-tls-server-name", "", "name expected in the model server's certificate (default: the host of --model-addr)")
}

// load validates the flags and takes the admin token from envToken
// (ASTRAGUARD_ADMIN_TOKEN as read at start; nil: unset) or reads it from
// --admin-token-file. Errors name files and variables, never a token.
func (s *securityConfig) load(envToken *secret) error {
	switch {
	case (s.tlsCert == "") != (s.tlsKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case s.tlsClientCA != "" && s.tlsCert == "":
		return errors.New("--tls-client-ca needs --tls-cert and --tls-key")
	case s.adminTLSClientCA != "" && (s.adminAddr == "" || s.tlsCert == ""):
		return errors.New("--admin-tls-client-ca needs --admin-addr, --tls-cert and --tls-key")
	case (s.modelTLSCert == "") != (s.modelTLSKey == ""):
		return errors.New("--model-tls-cert and --model-tls-key go together")
	case len(s.adminIdentities) > 0 && s.tlsClientCA == "" && s.adminTLSClientCA == "":
		// Without a client CA no certificate is verified, so no identity
		// could ever match: admin would be locked for everyone.
		return errors.New("--admin-allowed-identity needs --tls-client-ca or --admin-tls-client-ca: without one no client certificate is verified")
	}
	if s.modelTLSCA != "" || s.modelTLSCert != "" || s.modelTLSServerName != "" {
		s.modelTLS = true
	}
	switch {
	case envToken != nil && s.adminTokenFile != "":
		return fmt.Errorf("set --admin-token-file or %s, not both", adminTokenEnv)
	case envToken != nil:
		if len(*envToken) == 0 {
			return fmt.Errorf("%s is set but empty", adminTokenEnv)
		}
		s.adminToken = envToken
	case s.adminTokenFile != "":
		b, err := smallfile.Read(s.adminTokenFile, maxTokenFileBytes)
		if err != nil {
			return fmt.Errorf("--admin-token-file: %w", err)
		}
		t := secret(strings.TrimSpace(string(b)))
		if len(t) == 0 {
			return fmt.Errorf("--admin-token-file %s is empty", s.adminTokenFile)
		}
		s.adminToken = &t
	}
	return nil
}

// plaintextToken refuses an admin token that would cross the network in
// clear text: a token configured with TLS off (no --tls-cert) while a
// listener that takes it is bound beyond loopback, unless
// --allow-plaintext-tokens. The listeners that take it are the admin one
// (--admin-addr, else --grpc-addr) and --http-addr (POST /-/reload, the
// profiler, the page). A bearer token is a password anyone on the path
// can copy; grpc-go's own per-RPC credentials refuse an insecure transport
// for that reason (RequireTransportSecurity), and agctl refuses to send
// one in clear text to a non-loopback address. Loopback stays allowed, so
// a token works on one machine without certificates.
func (s *securityConfig) plaintextToken(grpcAddr, httpAddr string) error {
	if s.adminToken == nil || s.tlsCert != "" || s.allowPlaintextTokens {
		return nil
	}
	admin, addr := "grpc-addr", grpcAddr
	if s.adminAddr != "" {
		admin, addr = "admin-addr", s.adminAddr
	}
	for _, l := range [...]struct{ flag, addr string }{{admin, addr}, {"http-addr", httpAddr}} {
		if l.addr != "" && !loopbackAddr(l.addr) {
			return fmt.Errorf("admin token without TLS: --%s %q is not a loopback address, so the token would cross the network in clear text; "+
				"set --tls-cert and --tls-key, bind --%s to loopback (127.0.0.1, [::1], localhost), or set --allow-plaintext-tokens", l.flag, l.addr, l.flag)
		}
	}
	return nil
}

// loopbackAddr reports whether the listen address host:port names a
// loopback host; an empty host (every interface) or another name does not.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func (s *securityConfig) authConfig() server.AuthConfig {
	c := server.AuthConfig{AllowedIdentities: s.adminIdentities, ProtectReads: s.adminReadAuth}
	if s.adminToken != nil {
		c.Token = *s.adminToken
	}
	return c
}

// authMode describes the admin authorization for the startup log.
func (s *securityConfig) authMode() string {
	switch {
	case s.adminToken != nil && len(s.adminIdentities) > 0:
		return "bearer token or client certificate"
	case s.adminToken != nil:
		return "bearer token"
	case len(s.adminIdentities) > 0:
		return "client certificate"
	}
	return "loopback peers only (no admin credentials configured)"
}

// serverTLS returns the listener TLS configuration for clientCA, or nil
// when TLS is off.
func (s *securityConfig) serverTLS(clientCA string, opts []tlsconf.Option) (*tls.Config, error) {
	if s.tlsCert == "" {
		return nil, nil
	}
	return tlsconf.Server(tlsconf.ServerFiles{Cert: s.tlsCert, Key: s.tlsKey, ClientCA: clientCA}, opts...)
}

// serverSecurity is what the servers take from the security flags.
type serverSecurity struct {
	auth    *server.AdminAuth // the admin rules: gRPC admin, the page, POST /-/reload, pprof
	opts    []server.Option   // the gRPC server's TLS and admin options
	httpTLS *tls.Config       // the HTTP listener's TLS; nil: plaintext
}

// serverOptions builds the admin authorization once, the server's TLS and
// admin options, and the HTTP listener's TLS configuration. tlsOpts report
// failed certificate reloads.
func (s *securityConfig) serverOptions(tlsOpts ...tlsconf.Option) (serverSecurity, error) {
	authCfg := s.authConfig()
	if s.adminTLSClientCA != "" && len(authCfg.AllowedIdentities) > 0 {
		// The HTTP port verifies clients against --tls-client-ca: a
		// certificate from it must not pass for an operator's there.
		var err error
		if authCfg.IdentityCAs, err = tlsconf.CAPool(s.adminTLSClientCA); err != nil {
			return serverSecurity{}, fmt.Errorf("--admin-tls-client-ca: %w", err)
		}
	}
	auth, err := server.NewAdminAuth(authCfg)
	if err != nil {
		return serverSecurity{}, err
	}
	sec := serverSecurity{auth: auth, opts: []server.Option{server.WithAdminAuth(auth)}}
	if sec.httpTLS, err = s.serverTLS(s.tlsClientCA, tlsOpts); err != nil {
		return serverSecurity{}, err
	}
	if sec.httpTLS != nil {
		sec.opts = append(sec.opts, server.WithGRPCOptions(grpc.Creds(credentials.NewTLS(sec.httpTLS))))
	}
	if s.adminAddr != "" {
		var adminOpts []grpc.ServerOption
		if s.adminTLSClientCA != "" {
			adminTLS, err := s.serverTLS(s.adminTLSClientCA, tlsOpts)
			if err != nil {
				return serverSecurity{}, err
			}
			adminOpts = append(adminOpts, grpc.Creds(credentials.NewTLS(adminTLS)))
		}
		sec.opts = append(sec.opts, server.WithAdminServer(adminOpts...))
	}
	return sec, nil
}

// modelDialOptions returns the model client's TLS credentials, if any.
func (s *securityConfig) modelDialOptions(tlsOpts ...tlsconf.Option) ([]grpc.DialOption, error) {
	if !s.modelTLS {
		return nil, nil
	}
	cfg, err := tlsconf.Client(tlsconf.ClientFiles{CA: s.modelTLSCA, Cert: s.modelTLSCert, Key: s.modelTLSKey, ServerName: s.modelTLSServerName}, tlsOpts...)
	if err != nil {
		return nil, fmt.Errorf("model tls: %w", err)
	}
	return []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(cfg))}, nil
}
