// Package zerofieldtest is the one table test of a component's explicit
// validation (see package zerofield): each exported field of the default
// settings, written 0 in turn, is accepted by the plain validation (the
// library's zero value works) and, by the explicit one, refused with a
// *zerofield.Error naming the field and its default, unless the field is
// one of those whose 0 has a meaning of its own.
//
// This package has no API stability promise.
package zerofieldtest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/astraguard/astraguard/internal/zerofield"
)

// Run checks validate and explicit (a component's Validate and
// ValidateExplicit) over def (its DefaultConfig) with each exported
// field set to 0; zeroMeant lists the fields whose 0 is a setting of its
// own, which both must accept (and which must be exactly those def leaves
// 0, so a default changed to 0 is caught).
func Run[T any](t *testing.T, def T, validate, explicit func(T) error, zeroMeant ...string) {
	t.Helper()
	if err := explicit(def); err != nil {
		t.Fatalf("ValidateExplicit(DefaultConfig()) = %v, want nil", err)
	}
	d := reflect.ValueOf(def)
	for _, f := range reflect.VisibleFields(d.Type()) {
		if !f.IsExported() {
			continue
		}
		meant := slices.Contains(zeroMeant, f.Name)
		if dz := d.FieldByIndex(f.Index).IsZero(); dz != meant {
			t.Errorf("%s: DefaultConfig's value is 0: %v, but its 0 is meant: %v", f.Name, dz, meant)
		}
		c := def
		reflect.ValueOf(&c).Elem().FieldByIndex(f.Index).SetZero()
		if err := validate(c); err != nil {
			t.Errorf("%s = 0: Validate() = %v, want nil", f.Name, err)
		}
		err := explicit(c)
		var ze *zerofield.Error
		want := fmt.Sprintf("leave it unset for the default %v", d.FieldByIndex(f.Index).Interface())
		switch {
		case meant && err != nil:
			t.Errorf("%s = 0: ValidateExplicit() = %v, want nil (0 has a meaning there)", f.Name, err)
		case !meant && (!errors.As(err, &ze) || ze.Field != f.Name || strings.Contains(err.Error(), "\n") ||
			!strings.Contains(err.Error(), f.Name+": must not be 0: ") || !strings.HasSuffix(err.Error(), want)):
			t.Errorf("%s = 0: ValidateExplicit() = %v, want one error %q ... %q", f.Name, err, f.Name+": must not be 0: ", want)
		}
	}
}
