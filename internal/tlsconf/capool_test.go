package tlsconf_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tlstest"
)

// TestCABundleBlocks: a CA bundle with a certificate block that does not
// parse, or a block that does not decode, is refused naming the file and
// the block, by Server and Client alike; x509's AppendCertsFromPEM loaded
// the rest and dropped such a CA without a word, so the clients it signed
// were refused as unknown. A key beside the certificates is skipped.
func TestCABundleBlocks(t *testing.T) {
	a, b := tlstest.NewCA(t, "a"), tlstest.NewCA(t, "b")
	srv := a.Server(t, "srv")
	read := func(f string) string {
		t.Helper()
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	dir := t.TempDir()
	for i, tt := range []struct {
		name, bundle, wantErr string
	}{
		{"two CAs", read(a.File) + read(b.File), ""},
		{"a key beside them", read(a.File) + read(srv.Key) + read(b.File), ""},
		{"corrupt certificate between", read(a.File) + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + read(b.File), "PEM block 2:"},
		{"undecodable block between", read(a.File) + "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n" + read(b.File), "1 of its 3 PEM blocks do not decode"},
		{"no certificate", read(srv.Key), "holds no PEM certificate"},
	} {
		file := filepath.Join(dir, string(rune('a'+i))+".pem")
		if err := os.WriteFile(file, []byte(tt.bundle), 0o600); err != nil {
			t.Fatal(err)
		}
		_, srvErr := tlsconf.Server(tlsconf.ServerFiles{Cert: srv.Cert, Key: srv.Key, ClientCA: file})
		_, cliErr := tlsconf.Client(tlsconf.ClientFiles{CA: file})
		for what, err := range map[string]error{"Server": srvErr, "Client": cliErr} {
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("%s: %s() = %v, want it loaded", tt.name, what, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), file)):
				t.Errorf("%s: %s() = %v, want an error naming %s and %q", tt.name, what, err, file, tt.wantErr)
			}
		}
	}
}
