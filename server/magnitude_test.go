package server

import (
	"math"
	"testing"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestDetectExtremeFiniteValues: NaN and ±Inf are refused per sample
// (NOT_FINITE), but every finite value is scored: one beyond ±1e30, up to
// ±MaxFloat64, is an anomaly of score 1 with MECHANISM_LIMIT and no
// operating-limit violation, and a subnormal or zero value is an ordinary
// calm sample. Each series goes in its own request, so the fake model
// (score = value/100, invalid beyond 100) cannot turn one into another's
// fallback.
func TestDetectExtremeFiniteValues(t *testing.T) {
	e := newEnv(t, Config{})
	ts := e.clock.Now().UnixNano() - 1e9
	tests := []struct {
		name   string
		values []float64
		flag   bool
	}{
		{"subnormal", []float64{5e-324, 5e-324, -5e-324, 0, math.SmallestNonzeroFloat64}, false},
		{"huge", []float64{1e308, -1e308, math.MaxFloat64, -math.MaxFloat64, math.Nextafter(1e30, 2e30), -1e31}, true},
	}
	for _, tt := range tests {
		resp, err := e.detect.DetectBatch(t.Context(), e.batch("sat9/"+tt.name, ts, tt.values...))
		if err != nil {
			t.Fatalf("DetectBatch(%s) error = %v", tt.name, err)
		}
		vs := resp.GetVerdicts()
		if len(vs) != len(tt.values) {
			t.Fatalf("DetectBatch(%s) = %d verdicts, want %d", tt.name, len(vs), len(tt.values))
		}
		for i, v := range vs {
			x := tt.values[i]
			if v.GetError() != nil {
				t.Errorf("verdict of %g = error %v, want scored", x, v.GetError())
				continue
			}
			if b := v.GetExpected(); b != nil && (math.IsInf(b.GetLower(), 0) || math.IsInf(b.GetUpper(), 0)) {
				t.Errorf("verdict of %g band = %v, want finite", x, b)
			}
			switch {
			case tt.flag && (!v.GetAnomaly() || v.GetScore() != 1 || v.GetMechanism() != astraguardv1.Mechanism_MECHANISM_LIMIT || v.GetLimitViolation()):
				t.Errorf("verdict of %g = %v, want anomaly, score 1, MECHANISM_LIMIT, no limit_violation", x, v)
			case !tt.flag && v.GetAnomaly():
				t.Errorf("verdict of %g = %v, want calm", x, v)
			}
		}
	}
}
