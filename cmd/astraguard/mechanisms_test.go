package main

import (
	"testing"

	"github.com/astraguard/astraguard/detector"
	configfile "github.com/astraguard/astraguard/internal/config"
)

// TestPolicyMechanismNames: every name the config file accepts under
// mechanisms is a mechanism the detector can turn off, so a valid file
// never fails later in NewPolicies.
func TestPolicyMechanismNames(t *testing.T) {
	for _, name := range configfile.MechanismNames {
		if m := detector.ParseMechanism(name); !detector.Switchable(m) || m.String() != name {
			t.Errorf("mechanism %q parses to %v, which a policy cannot turn off", name, m)
		}
	}
	off := offMechanisms(map[string]string{"season": "off", "shift": "on", "state": "off"})
	if len(off) != 2 || off[0] != detector.MechanismSeason || off[1] != detector.MechanismState {
		t.Errorf("offMechanisms = %v, want [season state]", off)
	}
}

// TestPolicySensitivityBounds: the config file and the detector accept
// the same sensitivities.
func TestPolicySensitivityBounds(t *testing.T) {
	if configfile.MinSensitivity != detector.MinSensitivity || configfile.MaxSensitivity != detector.MaxSensitivity {
		t.Errorf("config sensitivity bounds [%v, %v], detector's [%v, %v]", configfile.MinSensitivity, configfile.MaxSensitivity,
			detector.MinSensitivity, detector.MaxSensitivity)
	}
}
