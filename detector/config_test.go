package detector

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestValidateExplicitZero: with every field written out (DefaultConfig,
// as cmd/astraguard's flags start), a 0 in a field whose 0 means its
// default is refused by ValidateExplicit as a FieldError naming the field
// and the default, and accepted by Validate (the zero value works);
// SeriesTTL's 0 (off) is accepted by both.
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
		var fe *FieldError
		want := fmt.Sprintf("must not be 0: leave it unset for the default %v", d.FieldByIndex(f.Index).Interface())
		switch {
		case f.Name == "SeriesTTL" && err != nil:
			t.Errorf("SeriesTTL = 0: ValidateExplicit() = %v, want nil (0 is off)", err)
		case f.Name != "SeriesTTL" && (!errors.As(err, &fe) || fe.Field != f.Name || fe.Err.Error() != want || strings.Contains(err.Error(), "\n")):
			t.Errorf("%s = 0: ValidateExplicit() = %v, want one FieldError of %s: %s", f.Name, err, f.Name, want)
		}
	}
}
