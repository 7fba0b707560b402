// Package tlstest issues throwaway certificates for tests: an ephemeral CA,
// a server certificate for 127.0.0.1, ::1 and localhost, and client
// certificates with chosen identities. Everything is generated in memory
// and written under t.TempDir(), so no private key is ever committed.
// No API stability promise.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is an ephemeral certificate authority.
type CA struct {
	// File is the CA certificate, PEM, for --*-ca flags.
	File string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

// Pair names a certificate's PEM file and its key's PEM file.
type Pair struct{ Cert, Key string }

// NewCA returns a CA named name whose files live in a fresh temp dir.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{cert: cert, key: key, dir: t.TempDir()}
	ca.File = ca.write(t, name+"-ca.pem", "CERTIFICATE", der)
	return ca
}

// Server issues a server certificate for 127.0.0.1, ::1 and localhost,
// valid from an hour ago for a day.
func (ca *CA) Server(t testing.TB, name string) Pair {
	t.Helper()
	return ca.ServerValid(t, name, time.Time{}, time.Time{})
}

// ServerValid is Server valid from notBefore to notAfter only: an
// expired certificate, or one not valid yet (zero times: Server's).
func (ca *CA) ServerValid(t testing.TB, name string, notBefore, notAfter time.Time) Pair {
	t.Helper()
	return ca.issue(t, name, &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
	})
}

// Client issues a client certificate with common name cn and the given
// URI SANs (e.g. "spiffe://astraguard/ops"); its files are named after cn.
func (ca *CA) Client(t testing.TB, cn string, uris ...string) Pair {
	t.Helper()
	return ca.ClientFor(t, cn, Identity{CN: cn, URIs: uris})
}

// Identity is what a client certificate claims: any mix of a common name
// and SANs, so that tests can craft certificates whose names disagree.
type Identity struct {
	CN   string
	DNS  []string
	URIs []string
	IPs  []net.IP
}

// ClientFor issues a client certificate claiming id; name names its files
// and must be usable in a file name.
func (ca *CA) ClientFor(t testing.TB, name string, id Identity) Pair {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: id.CN},
		DNSNames:    id.DNS,
		IPAddresses: id.IPs,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, u := range id.URIs {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	return ca.issue(t, name, tmpl)
}

func (ca *CA) issue(t testing.TB, name string, tmpl *x509.Certificate) Pair {
	t.Helper()
	key := newKey(t)
	tmpl.SerialNumber = serial(t)
	if tmpl.NotAfter.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return Pair{
		Cert: ca.write(t, name+".pem", "CERTIFICATE", der),
		Key:  ca.write(t, name+"-key.pem", "PRIVATE KEY", keyDER),
	}
}

func (ca *CA) write(t testing.TB, file, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(ca.dir, file)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
