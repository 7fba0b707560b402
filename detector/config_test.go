package detector

import (
	"errors"
	"testing"

	"github.com/astraguard/astraguard/internal/zerofield"
	"github.com/astraguard/astraguard/internal/zerofield/zerofieldtest"
)

// TestValidateExplicitZero: with every field written out (DefaultConfig,
// as cmd/astraguard's flags start), a 0 in a field whose 0 means its
// default is refused by ValidateExplicit as a FieldError naming the field
// and the default, and accepted by Validate (the zero value works);
// SeriesTTL's 0 (off) is accepted by both.
func TestValidateExplicitZero(t *testing.T) {
	zerofieldtest.Run(t, DefaultConfig(), Config.Validate, Config.ValidateExplicit, "SeriesTTL")
	// Each refused 0 is this package's FieldError, which the command maps
	// to its flag or key.
	for _, e := range (Config{}).ValidateExplicit().(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		var ze *zerofield.Error
		if !errors.As(e, &fe) || !errors.As(e, &ze) || fe.Field != ze.Field {
			t.Errorf("Config{}.ValidateExplicit(): %v (%T), want a FieldError wrapping the zerofield.Error of its field", e, e)
		}
	}
}
