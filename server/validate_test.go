package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/zerofield"
	"github.com/astraguard/astraguard/internal/zerofield/zerofieldtest"
)

// TestValidateKeepaliveBounds: the durations that pace gRPC's keepalive
// loop are refused at 1ns, -1ns and just under their bound of 1s, each as
// a FieldError naming the field; 0 takes the default; the bound and
// MaxDuration are accepted, MaxDuration+1ns is not.
func TestValidateKeepaliveBounds(t *testing.T) {
	set := map[string]func(*Config, time.Duration){
		"KeepaliveTime":     func(c *Config, d time.Duration) { c.KeepaliveTime = d },
		"KeepaliveTimeout":  func(c *Config, d time.Duration) { c.KeepaliveTimeout = d },
		"KeepaliveMinTime":  func(c *Config, d time.Duration) { c.KeepaliveMinTime = d },
		"MaxConnectionIdle": func(c *Config, d time.Duration) { c.MaxConnectionIdle = d },
	}
	if len(set) != len(minDurations) {
		t.Fatalf("the test covers %d fields, minDurations bounds %d", len(set), len(minDurations))
	}
	for field, f := range set {
		for _, tc := range []struct {
			d    time.Duration
			want string // "": valid
		}{
			{time.Nanosecond, "1ns below the minimum 1s"},
			{0, ""},
			{-time.Nanosecond, "outside [0, "},
			{time.Second - time.Nanosecond, "below the minimum 1s"},
			{time.Second, ""},
			{MaxDuration, ""},
			{MaxDuration + time.Nanosecond, "outside [0, "},
		} {
			var c Config
			f(&c, tc.d)
			err := c.Validate()
			var fe *FieldError
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Config{%s: %v}.Validate() = %v, want nil", field, tc.d, err)
			case tc.want != "" && (!errors.As(err, &fe) || fe.Field != field || !strings.Contains(fe.Err.Error(), tc.want)):
				t.Errorf("Config{%s: %v}.Validate() = %v, want a FieldError of %s containing %q", field, tc.d, err, field, tc.want)
			}
		}
	}
	if d := DefaultConfig().MaxConnectionIdle; d != 5*time.Minute {
		t.Errorf("DefaultConfig().MaxConnectionIdle = %v, want 5m (connlimit.DefaultMaxConnectionIdle)", d)
	}
}

// TestValidateExplicitZero: with every field written out (DefaultConfig,
// as the command's flags start), a 0 in a field whose 0 means its default
// is refused by ValidateExplicit as a FieldError naming the field and the
// default, and accepted by Validate (the library's zero value works); the
// fields whose 0 means something of its own accept it from both, and
// are exactly those DefaultConfig leaves 0.
func TestValidateExplicitZero(t *testing.T) {
	zerofieldtest.Run(t, DefaultConfig(), Config.Validate, Config.ValidateExplicit,
		"MaxConnectionsPerClient", "MaxDetectStreamsPerClient", "RateLimit", "RateBurst", "RateWait")
	// Each refused 0 is this package's FieldError, which the command maps
	// to its flag or key.
	for _, e := range (Config{}).ValidateExplicit().(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		var ze *zerofield.Error
		if !errors.As(e, &fe) || !errors.As(e, &ze) || fe.Field != ze.Field {
			t.Errorf("Config{}.ValidateExplicit(): %v (%T), want a FieldError wrapping the zerofield.Error of its field", e, e)
		}
	}
	c := DefaultConfig()
	c.KeepaliveTime, c.MaxConnectionIdle = 0, 0
	var fe *FieldError
	if err := c.ValidateExplicit(); !errors.As(err, &fe) || !strings.Contains(err.Error(), "KeepaliveTime: must not be 0: "+noOff) || !strings.Contains(err.Error(), "MaxConnectionIdle: must not be 0: "+noOff) {
		t.Errorf("KeepaliveTime = MaxConnectionIdle = 0: ValidateExplicit() = %v, want FieldErrors of both saying %q", err, noOff)
	}
}
