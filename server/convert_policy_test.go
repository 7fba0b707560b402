package server

import (
	"testing"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestFillVerdictPolicy: the policy name reaches the wire, and a reused
// message does not keep the previous sample's policy.
func TestFillVerdictPolicy(t *testing.T) {
	m := &astraguardv1.Verdict{}
	fillVerdict(m, "x/VOLTAGE", &detector.Verdict{Score: 1, Anomaly: true, LimitViolation: true, Policy: "voltage"}, &astraguardv1.Expectation{})
	if m.GetPolicy() != "voltage" {
		t.Errorf("Policy = %q, want voltage", m.GetPolicy())
	}
	fillVerdict(m, "x/other", &detector.Verdict{}, &astraguardv1.Expectation{})
	if m.GetPolicy() != "" {
		t.Errorf("Policy = %q after reuse, want empty", m.GetPolicy())
	}
}
