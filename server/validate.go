package server

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/zerofield"
)

// Upper bounds of Config's sizes. Most limits allocate nothing up front (a
// connection or stream slot is a counter), so their bound is what the
// protocol or the type can carry; they exist so a typo is refused with
// the field's name instead of wrapping around or overflowing.
const (
	// MaxMessageBytes bounds MaxRecvMsgBytes and MaxSendMsgBytes: a gRPC
	// message's length prefix is 32 bits.
	MaxMessageBytes = math.MaxUint32
	// MaxHeaderListLimit bounds MaxHeaderListBytes: the HTTP/2 setting
	// that carries it is 32 bits.
	MaxHeaderListLimit = math.MaxUint32
	// MaxCount bounds the other integer limits (connections, streams,
	// series per stream, samples per request, queue depth, bytes queued,
	// rate burst, clients remembered).
	MaxCount = math.MaxInt32
	// MaxRateLimit bounds RateLimit (samples per second).
	MaxRateLimit = 1e12
	// MaxDuration bounds the timeouts and keepalive intervals (10 years),
	// so deadlines computed from them cannot overflow.
	MaxDuration = 10 * 365 * 24 * time.Hour
)

// minDurations are the lower bounds of the durations that pace gRPC's
// keepalive loop, by field; zero takes the default. Each is
// connlimit.MinKeepalive (1s): gRPC raises a shorter KeepaliveTime to 1s
// anyway, a ping's answer must cross the network (a shorter
// KeepaliveTimeout cuts live clients on a slow link), a shorter
// KeepaliveMinTime lets a client keep the server answering pings flat
// out, and a shorter MaxConnectionIdle closes connections between a
// client's calls. The other durations (HandshakeTimeout, SendTimeout,
// RateWait) are one deadline each, no loop, so any value is safe.
var minDurations = map[string]time.Duration{
	"KeepaliveTime":     connlimit.MinKeepalive,
	"KeepaliveTimeout":  connlimit.MinKeepalive,
	"KeepaliveMinTime":  connlimit.MinKeepalive,
	"MaxConnectionIdle": connlimit.MinKeepalive,
}

// FieldError is one invalid field of Config; Field is its Go name.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "server config: " + e.Field + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// noOff is what ValidateExplicit adds for the fields whose 0 a user may
// mean as off, which gRPC does not offer.
const noOff = "there is no off (a long value such as 8760h comes close); "

// zeroHints gives the fields whose refused 0 gets noOff.
var zeroHints = map[string]string{"KeepaliveTime": noOff, "MaxConnectionIdle": noOff}

// Validate reports every out-of-range field of c at once, each a
// *FieldError, joined; nil when c is valid. Zero fields take defaults;
// negative values are refused.
func (c Config) Validate() error {
	var errs []error
	v := reflect.ValueOf(c)
	for _, f := range reflect.VisibleFields(v.Type()) {
		if f.IsExported() {
			if err := validateField(f.Name, v.FieldByIndex(f.Index)); err != nil {
				errs = append(errs, &FieldError{Field: f.Name, Err: err})
			}
		}
	}
	return errors.Join(errs...)
}

// ValidateExplicit is Validate for a Config whose every field was written
// out on purpose, as cmd/astraguard's flags and file keys write it (each
// starting from DefaultConfig's value): a 0 that would take the field's
// default is refused too ("must not be 0"), since whoever wrote it meant
// off or made a mistake, and neither should pass without a word. The
// fields whose 0 means something of its own (MaxConnectionsPerClient,
// MaxDetectStreamsPerClient, RateLimit, RateBurst, RateWait: the fields
// DefaultConfig leaves 0) accept it (package zerofield).
func (c Config) ValidateExplicit() error {
	var errs []error
	if err := c.Validate(); err != nil {
		errs = err.(interface{ Unwrap() []error }).Unwrap()
	}
	for _, z := range zerofield.Check(c, defaults, zeroHints) {
		errs = append(errs, &FieldError{Field: z.Field, Err: z})
	}
	return errors.Join(errs...)
}

// validateField checks the value x of the field name against its bounds.
func validateField(name string, x reflect.Value) (err error) {
	switch x.Type() {
	case reflect.TypeFor[time.Duration]():
		d, lo := time.Duration(x.Int()), minDurations[name]
		switch {
		case d < 0 || d > MaxDuration:
			err = fmt.Errorf("%v outside [0, %v]", d, time.Duration(MaxDuration))
		case d > 0 && d < lo:
			err = fmt.Errorf("%v below the minimum %v", d, lo)
		}
	case reflect.TypeFor[int]():
		hi := int64(MaxCount)
		switch name {
		case "MaxRecvMsgBytes", "MaxSendMsgBytes":
			hi = MaxMessageBytes
		case "MaxHeaderListBytes":
			hi = MaxHeaderListLimit
		}
		if n := x.Int(); n < 0 || n > hi {
			err = fmt.Errorf("%d outside [0, %d]", n, hi)
		}
	case reflect.TypeFor[float64]():
		if r := x.Float(); !(r >= 0 && r <= MaxRateLimit) {
			err = fmt.Errorf("%v outside [0, %g]", r, float64(MaxRateLimit))
		}
	}
	return err
}
