package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// ServerFiles names the PEM files of a TLS listener.
type ServerFiles struct {
	Cert, Key string
	// ClientCA, when set, turns on mutual TLS: every client must present
	// a certificate that chains to one of these CAs.
	ClientCA string
}

// Server returns the listener configuration for f.
func Server(f ServerFiles, opts ...Option) (*tls.Config, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("tls: a certificate and a key file are both required")
	}
	kp, err := newWatchedKeyPair(f.Cert, f.Key, "server", evaluate(opts))
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return kp.get(), nil
		},
	}
	if f.ClientCA != "" {
		if cfg.ClientCAs, err = loadPool(f.ClientCA); err != nil {
			return nil, err
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientFiles names the PEM files and server name of a TLS client.
type ClientFiles struct {
	// CA verifies the server; empty uses the system roots.
	CA string
	// Cert and Key, both or neither, are presented to servers that ask
	// for a client certificate.
	Cert, Key string
	// ServerName overrides the name checked against the server's
	// certificate; empty uses the host of the dialed address.
	ServerName string
}

// Client returns the client configuration for f.
func Client(f ClientFiles, opts ...Option) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	var err error
	if f.CA != "" {
		if cfg.RootCAs, err = loadPool(f.CA); err != nil {
			return nil, err
		}
	}
	switch {
	case f.Cert != "" && f.Key != "":
		kp, err := newWatchedKeyPair(f.Cert, f.Key, "client", evaluate(opts))
		if err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return kp.get(), nil
		}
	case f.Cert != "" || f.Key != "":
		return nil, errors.New("tls: a client certificate needs both its certificate and its key file")
	}
	return cfg, nil
}

// CAPool reads a CA bundle as Server and Client do, for checks beyond
// the handshake (the admin identities' CA).
func CAPool(file string) (*x509.CertPool, error) { return loadPool(file) }

func loadPool(file string) (*x509.CertPool, error) {
	pemBytes, err := smallfile.Read(file, MaxPEMBytes)
	if err != nil {
		return nil, fmt.Errorf("tls: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	// Block by block: x509.CertPool.AppendCertsFromPEM skips a block it
	// cannot decode or parse without a word, so a corrupt CA in a bundle
	// was dropped and the clients it signed refused as unknown.
	blocks, certs := 0, 0
	for rest := pemBytes; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		blocks++
		if block.Type != "CERTIFICATE" {
			continue // a key or parameters beside the CAs
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tls: CA file %s: PEM block %d: %w", file, blocks, err)
		}
		pool.AddCert(cert)
		certs++
	}
	if begun := bytes.Count(pemBytes, []byte("-----BEGIN ")); begun > blocks {
		return nil, fmt.Errorf("tls: CA file %s: %d of its %d PEM blocks do not decode", file, begun-blocks, begun)
	}
	if certs == 0 {
		return nil, fmt.Errorf("tls: CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}
