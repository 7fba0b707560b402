package tlsconf

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// keyPair holds a certificate and key loaded from files and reloads them
// when either file's size or modification time changes.
type keyPair struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate // guarded by mu
	version [2]fileVersion   // guarded by mu; of certFile and keyFile when cert was loaded
}

type fileVersion struct {
	mod  time.Time
	size int64
}

func newKeyPair(certFile, keyFile string) (*keyPair, error) {
	kp := &keyPair{certFile: certFile, keyFile: keyFile}
	v, err := kp.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		// LoadX509KeyPair's errors describe the PEM, never the key bytes.
		return nil, fmt.Errorf("tls: load key pair %s, %s: %w", certFile, keyFile, err)
	}
	kp.cert, kp.version = &cert, v
	return kp, nil
}

func (kp *keyPair) stat() ([2]fileVersion, error) {
	var v [2]fileVersion
	for i, f := range []string{kp.certFile, kp.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return v, fmt.Errorf("tls: %w", err)
		}
		v[i] = fileVersion{mod: st.ModTime(), size: st.Size()}
	}
	return v, nil
}

// get returns the current pair, reloading it first if the files changed.
// A failed reload (files missing or mid-rotation) keeps the previous pair
// and is retried at the next handshake.
func (kp *keyPair) get() *tls.Certificate {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	v, err := kp.stat()
	if err != nil || v == kp.version {
		return kp.cert
	}
	cert, err := tls.LoadX509KeyPair(kp.certFile, kp.keyFile)
	if err != nil {
		return kp.cert
	}
	kp.cert, kp.version = &cert, v
	return kp.cert
}
