package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
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
	// lastErr is the last reported repeatable failure's text (a stat
	// error, a certificate not valid yet), so that files missing for a
	// while are reported once, not at every check.
	lastErr atomic.Pointer[string]
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
	if v == kp.cur.Load().version {
		kp.lastErr.Store(nil)
		return
	}
	if f := kp.failed.Load(); f != nil && *f == v {
		return
	}
	cert, err := kp.load(kp.certFile, kp.keyFile)
	if err == nil {
		err = checkValidity(cert.Leaf, kp.now())
	}
	if err != nil {
		// A certificate not valid yet may become so with time, so it is
		// checked again (and reported once) until it is; anything else
		// waits for the files to change.
		notYet := errors.Is(err, errNotYetValid)
		if !notYet {
			kp.failed.Store(&v)
		}
		kp.fail(fmt.Errorf("tls: load key pair %s, %s: %w", kp.certFile, kp.keyFile, err), notYet)
		return
	}
	kp.lastErr.Store(nil)
	kp.cur.Store(&loadedPair{cert: &cert, version: v})
}

var errNotYetValid = errors.New("certificate not valid yet")

// checkValidity refuses a reloaded leaf outside its validity period at
// now: installing it would fail every handshake while the previous
// certificate may still be good. A pair that parses is not enough.
func checkValidity(leaf *x509.Certificate, now time.Time) error {
	switch {
	case leaf == nil:
		return nil
	case now.After(leaf.NotAfter):
		return fmt.Errorf("certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("%w: valid from %s", errNotYetValid, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// fail reports a failed check: a failed load once per files' version (it
// is not retried until they change), a repeatable failure (a stat error,
// a certificate not valid yet) once per distinct text.
func (kp *keyPair) fail(err error, repeats bool) {
	if kp.onError == nil {
		return
	}
	if repeats {
		msg := err.Error()
		if last := kp.lastErr.Swap(&msg); last != nil && *last == msg {
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
	if err := checkValidity(kp.cur.Load().cert.Leaf, o.now()); err != nil {
		// Not refused: there is no other pair to serve, and the files
		// are re-read when they change.
		o.logger.Warn("tls certificate not valid now; handshakes will fail until it is replaced", "pair", pair, "cert", certFile, "err", err)
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
