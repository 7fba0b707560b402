package tlsconf

import (
	"crypto/tls"
	"os"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/tlstest"
)

// TestKeyPairParsesAFailedVersionOnce checks that files a rotation left
// unparsable are parsed once, not at every check, and that the next
// change to them is loaded.
func TestKeyPairParsesAFailedVersionOnce(t *testing.T) {
	ca := tlstest.NewCA(t, "memo")
	first, second := ca.Server(t, "first"), ca.Server(t, "second")
	dir := t.TempDir()
	certFile, keyFile := dir+"/tls.crt", dir+"/tls.key"
	mod := time.Now().Truncate(time.Second) // the certificates are valid around now
	write := func(file string, b []byte) {
		t.Helper()
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		mod = mod.Add(time.Minute) // beyond the file system's timestamp granularity
		if err := os.Chtimes(file, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	copyPair := func(p tlstest.Pair) {
		t.Helper()
		for src, dst := range map[string]string{p.Cert: certFile, p.Key: keyFile} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			write(dst, b)
		}
	}
	copyPair(first)
	now := time.Now()
	kp, err := newKeyPair(certFile, keyFile, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	loads := 0
	kp.load = func(c, k string) (tls.Certificate, error) {
		loads++
		return tls.LoadX509KeyPair(c, k)
	}
	orig := kp.get()

	write(certFile, []byte("half-written"))
	for range 5 {
		now = now.Add(checkInterval)
		if got := kp.get(); got != orig {
			t.Fatalf("get() after a broken rotation = %p, want the previous pair %p", got, orig)
		}
	}
	if loads != 1 {
		t.Errorf("broken files parsed %d times over 5 checks, want once", loads)
	}

	copyPair(second)
	now = now.Add(checkInterval)
	if got := kp.get(); got == orig || loads != 2 {
		t.Errorf("get() after a good rotation = the previous pair %v, %d loads; want the new pair, 2 loads", got == orig, loads)
	}
}
