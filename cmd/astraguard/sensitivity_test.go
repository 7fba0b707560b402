package main

import (
	"math"
	"testing"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/synth"
)

// TestPolicyJudgementEndToEnd (issue 18 item 7) runs the service on a
// config file whose policies set a sensitivity and turn a mechanism off,
// and sends the same samples as three series:
//   - a level shift of 3.5 noise sigmas on a daily wave at five-minute
//     cadence, borderline: missed by default, flagged under sensitivity 10;
//   - then a jump of 40 deviations: flagged by shift by default, and still
//     flagged, by another mechanism that fired, where shift is off.
func TestPolicyJudgementEndToEnd(t *testing.T) {
	_, ctx, logs, addrs, finish := startConfigRun(t, `policies:
  - name: hot
    match: ["hot/*"]
    sensitivity: 10
  - name: noshift
    match: ["noshift/*"]
    mechanisms: {shift: off}
`)
	client := astraguardv1.NewDetectorServiceClient(dialRun(t, addrs.GRPC))
	g := synth.NewGauss(11)
	const hist = 864 // three days at five minutes
	vs := make([]float64, hist+30)
	ts := make([]int64, len(vs))
	start := time.Unix(1_700_006_400, 0) // midnight UTC
	for i := range vs {
		vs[i] = 10 + 3*math.Sin(2*math.Pi*float64(i)*5/60/24) + 0.5*g.Next()
		if i >= hist {
			vs[i] += 3.5 * 0.5
		}
		ts[i] = start.Add(time.Duration(i) * 5 * time.Minute).UnixNano()
	}
	score := func(id string, vs []float64, ts []int64) []*astraguardv1.Verdict {
		t.Helper()
		resp, err := client.DetectBatch(ctx, &astraguardv1.DetectBatchRequest{
			Series: []*astraguardv1.SeriesSamples{{SeriesId: id, UnixNanos: ts, Values: vs}}})
		if err != nil || len(resp.GetVerdicts()) != len(vs) {
			t.Fatalf("DetectBatch(%s) = %d verdicts, %v; logs:\n%s", id, len(resp.GetVerdicts()), err, logs.String())
		}
		return resp.GetVerdicts()
	}
	flagged := func(vs []*astraguardv1.Verdict) (out []*astraguardv1.Verdict) {
		for _, v := range vs {
			if v.GetAnomaly() {
				out = append(out, v)
			}
		}
		return out
	}
	if f := flagged(score("ref/bus", vs, ts)[hist:]); len(f) != 0 {
		t.Errorf("no policy: %d flags of the 3.5-sigma shift, want none (the case must be borderline)", len(f))
	}
	if f := flagged(score("hot/bus", vs, ts)[hist:]); len(f) == 0 || f[0].GetPolicy() != "hot" || f[0].GetSource() != astraguardv1.Source_SOURCE_MODEL {
		t.Errorf("sensitivity 10: flags %v, want the shift flagged by the model under policy hot", f)
	}

	// Noise, then a jump of 40 deviations.
	vs, ts = make([]float64, 3001), make([]int64, 3001)
	for i := range vs {
		vs[i] = 10 + 0.5*g.Next()
		ts[i] = start.Add(time.Duration(i) * 5 * time.Minute).UnixNano()
	}
	vs[3000] = 30
	ref, off := score("ref2/bus", vs, ts), score("noshift/bus", vs, ts)
	if r := ref[len(vs)-1]; !r.GetAnomaly() || r.GetMechanism() != astraguardv1.Mechanism_MECHANISM_SHIFT {
		t.Fatalf("jump without a policy: %v, want flagged by shift", r)
	}
	if o := off[len(vs)-1]; !o.GetAnomaly() || o.GetPolicy() != "noshift" || o.GetMechanism() == astraguardv1.Mechanism_MECHANISM_SHIFT ||
		o.GetMechanism() == astraguardv1.Mechanism_MECHANISM_UNSPECIFIED {
		t.Errorf("jump with shift off: %v, want flagged by another mechanism", o)
	}
	finish()
}
