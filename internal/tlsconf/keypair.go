package tlsconf

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// checkInterval is how often, at most, the files of a key pair are
// checked for a change: handshakes in between use the loaded pair without
// touching the file system.
const checkInterval = time.Second

// keyPair holds a certificate and key loaded from files and reloads them
// when either file's size or modification time changes. It takes no lock:
// the handshake that finds a check due claims it with a compare-and-swap
// and does the file I/O, while concurrent handshakes keep using the
// current pair.
type keyPair struct {
	certFile, keyFile string
	now               func() time.Time
	load              func(certFile, keyFile string) (tls.Certificate, error)

	cur       atomic.Pointer[loadedPair]
	nextCheck atomic.Int64 // unix nanoseconds; no check before
	// failed is the files' version that last failed to load, so that
	// files left unparsable by a rotation are parsed once, not at every
	// check, until they change again.
	failed atomic.Pointer[[2]fileVersion]
	// onError reports a failed reload check; nil ignores it.
	onError func(err error)
	// lastStatErr is the last reported stat failure's text, so that files
	// missing for a while are reported once, not at every check.
	lastStatErr atomic.Pointer[string]
}

// loadedPair is a certificate and the versions of certFile and keyFile it
// was loaded from.
type loadedPair struct {
	cert    *tls.Certificate
	version [2]fileVersion
}

type fileVersion struct {
	mod  time.Time
	size int64
}

func newKeyPair(certFile, keyFile string, now func() time.Time) (*keyPair, error) {
	kp := &keyPair{certFile: certFile, keyFile: keyFile, now: now, load: loadKeyPair}
	v, err := kp.stat()
	if err != nil {
		return nil, err
	}
	cert, err := kp.load(certFile, keyFile)
	if err != nil {
		// LoadX509KeyPair's errors describe the PEM, never the key bytes.
		return nil, fmt.Errorf("tls: load key pair %s, %s: %w", certFile, keyFile, err)
	}
	kp.cur.Store(&loadedPair{cert: &cert, version: v})
	kp.nextCheck.Store(now().Add(checkInterval).UnixNano())
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

// get returns the current pair, first reloading it if a check is due and
// the files changed.
func (kp *keyPair) get() *tls.Certificate {
	now := kp.now().UnixNano()
	next := kp.nextCheck.Load()
	if now >= next && kp.nextCheck.CompareAndSwap(next, now+int64(checkInterval)) {
		kp.reload()
	}
	return kp.cur.Load().cert
}

// reload loads the files if they changed since the current pair and since
// the last failure. A failed load (files missing or mid-rotation) keeps
// the current pair.
func (kp *keyPair) reload() {
	v, err := kp.stat()
	if err != nil {
		kp.fail(err, true)
		return
	}
	kp.lastStatErr.Store(nil)
	if v == kp.cur.Load().version {
		return
	}
	if f := kp.failed.Load(); f != nil && *f == v {
		return
	}
	cert, err := kp.load(kp.certFile, kp.keyFile)
	if err != nil {
		kp.failed.Store(&v)
		kp.fail(fmt.Errorf("tls: load key pair %s, %s: %w", kp.certFile, kp.keyFile, err), false)
		return
	}
	kp.cur.Store(&loadedPair{cert: &cert, version: v})
}

// fail reports a failed check: a failed load once per files' version (it
// is not retried until they change), a stat error once per distinct text.
func (kp *keyPair) fail(err error, stat bool) {
	if kp.onError == nil {
		return
	}
	if stat {
		msg := err.Error()
		if last := kp.lastStatErr.Swap(&msg); last != nil && *last == msg {
			return
		}
	}
	kp.onError(err)
}

// newWatchedKeyPair is newKeyPair reporting failed reloads to o's logger
// and counter.
func newWatchedKeyPair(certFile, keyFile, pair string, o options) (*keyPair, error) {
	errs, err := o.reloadErrors(pair)
	if err != nil {
		return nil, err
	}
	kp, err := newKeyPair(certFile, keyFile, o.now)
	if err != nil {
		return nil, err
	}
	kp.onError = func(err error) {
		errs.Inc()
		o.logger.Warn("tls certificate reload failed; keeping the previous certificate", "pair", pair, "err", err)
	}
	return kp, nil
}

// MaxPEMBytes bounds a certificate, key or CA file: far above any real
// bundle, and small enough that a path naming /dev/zero cannot exhaust
// memory.
const MaxPEMBytes = 1 << 20

// loadKeyPair is tls.LoadX509KeyPair reading both files with
// smallfile.Read, so a FIFO or device there is refused, not waited on.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := smallfile.Read(certFile, MaxPEMBytes)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := smallfile.Read(keyFile, MaxPEMBytes)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cert, key)
}
