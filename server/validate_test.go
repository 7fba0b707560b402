package server

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
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
	if err := DefaultConfig().ValidateExplicit(); err != nil {
		t.Fatalf("DefaultConfig().ValidateExplicit() = %v", err)
	}
	d := reflect.ValueOf(DefaultConfig())
	for _, f := range reflect.VisibleFields(d.Type()) {
		c := DefaultConfig()
		reflect.ValueOf(&c).Elem().FieldByIndex(f.Index).SetZero()
		if err := c.Validate(); err != nil {
			t.Errorf("%s = 0: Validate() = %v, want nil", f.Name, err)
		}
		err := c.ValidateExplicit()
		if d.FieldByIndex(f.Index).IsZero() != zeroMeanings[f.Name] {
			t.Errorf("%s: DefaultConfig's value is 0: %v, but zeroMeanings lists it: %v", f.Name, d.FieldByIndex(f.Index).IsZero(), zeroMeanings[f.Name])
		}
		var fe *FieldError
		want := fmt.Sprintf("leave it unset for the default %v", d.FieldByIndex(f.Index).Interface())
		switch {
		case zeroMeanings[f.Name] && err != nil:
			t.Errorf("%s = 0: ValidateExplicit() = %v, want nil (0 has a meaning there)", f.Name, err)
		case !zeroMeanings[f.Name] && (!errors.As(err, &fe) || fe.Field != f.Name || !strings.HasPrefix(fe.Err.Error(), "must not be 0") || !strings.HasSuffix(fe.Err.Error(), want)):
			t.Errorf("%s = 0: ValidateExplicit() = %v, want a FieldError of %s: must not be 0 ... %s", f.Name, err, f.Name, want)
		}
	}
}
