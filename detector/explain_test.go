package detector

import (
	"math"
	"testing"

	"github.com/astraguard/astraguard/internal/model"
)

func TestParseMechanism(t *testing.T) {
	for m := MechanismNone; m < numMechanisms; m++ {
		if got := ParseMechanism(m.String()); got != m {
			t.Errorf("ParseMechanism(%q) = %v, want %v", m.String(), got, m)
		}
	}
	if got := ParseMechanism("vibration"); got != MechanismOther {
		t.Errorf("ParseMechanism(unknown) = %v, want other", got)
	}
	if got := ParseMechanism(""); got != MechanismNone {
		t.Errorf("ParseMechanism(\"\") = %v, want none", got)
	}
}

// TestExplanationSanitized treats a model's band as untrusted: a band that
// is not finite or not ordered is dropped, a good one kept.
func TestExplanationSanitized(t *testing.T) {
	good := Explanation{Mechanism: MechanismShift, HasBand: true, Expected: 1, Lower: 0, Upper: 2}
	if got := good.sanitized(); got != good {
		t.Errorf("sanitized(%+v) = %+v, want unchanged", good, got)
	}
	for _, bad := range []Explanation{
		{HasBand: true, Expected: math.NaN(), Lower: 0, Upper: 2},
		{HasBand: true, Expected: 1, Lower: math.Inf(-1), Upper: 2},
		{HasBand: true, Expected: 3, Lower: 0, Upper: 2},
		{HasBand: false, Expected: 1, Lower: 0, Upper: 2},
	} {
		if got := bad.sanitized(); got.HasBand || got.Expected != 0 || got.Lower != 0 || got.Upper != 0 {
			t.Errorf("sanitized(%+v) = %+v, want no band", bad, got)
		}
	}
	if got := (Explanation{Mechanism: 200}).sanitized(); got.Mechanism != MechanismOther {
		t.Errorf("sanitized(mechanism 200) = %v, want other", got.Mechanism)
	}
}

// TestModelMechanismsMatch guards the embedded model's conversion by number.
func TestModelMechanismsMatch(t *testing.T) {
	for m := model.MechanismNone; m <= model.MechanismState; m++ {
		if got := Mechanism(m).String(); got != m.String() {
			t.Errorf("model mechanism %d is %q, detector's %q", m, m.String(), got)
		}
	}
}
