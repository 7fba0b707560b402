package detector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/astraguard/astraguard/detector/heuristic"
)

func mustPolicies(t *testing.T, ps []Policy) *Policies {
	t.Helper()
	p, err := NewPolicies(ps)
	if err != nil {
		t.Fatalf("NewPolicies = %v", err)
	}
	return p
}

func TestPoliciesMatchFirstWins(t *testing.T) {
	ps := mustPolicies(t, append([]Policy{
		{Name: "bus-a", Globs: []string{"sat1/bus-?/*"}},
		{Name: "re", Regex: `^sat[0-9]+\.rw[0-9]$`},
		{Name: "sat1", Globs: []string{"sat1/*"}},
	}, DefaultPolicies()...))
	tests := []struct{ id, want string }{
		{"sat1/bus-a/voltage", "bus-a"}, // first match wins over sat1 and voltage
		{"sat1/voltage", "sat1"},
		{"SAT1/Bus-B/x", "bus-a"}, // globs match case-insensitively
		{"sat12.rw3", "re"},
		{"SAT12.RW3", ""}, // a regex matches as written
		{"x/VOLTAGE", "voltage"},
		{"a.b.Temperature", "temperature"},
		{"gyro", "gyro"},
		{"sat2/undervoltage", ""}, // the channel, not a suffix
	}
	for _, tt := range tests {
		got := ""
		if p := ps.Match(tt.id); p != nil {
			got = p.Name
		}
		if got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestNewPoliciesInvalid(t *testing.T) {
	for _, p := range []Policy{
		{Globs: []string{"*"}},
		{Name: "both", Globs: []string{"*"}, Regex: "x"},
		{Name: "neither"},
		{Name: "bad re", Regex: "("},
		{Name: "thr", Globs: []string{"*"}, Threshold: 1.5},
		{Name: "lim", Globs: []string{"*"}, Limit: heuristic.Within(9, 7)},
		{Name: "empty glob", Globs: []string{""}},
		{Name: "dir", Globs: []string{"*"}, Direction: DirectionDown + 1},
		{Name: "min", Globs: []string{"*"}, MinDeviation: -1},
		{Name: "rel", Globs: []string{"*"}, MinRelativeDeviation: math.Inf(1)},
		{Name: strings.Repeat("n", MaxPolicyNameBytes+1), Globs: []string{"x"}},
		{Name: "\xff", Globs: []string{"x"}},
	} {
		if _, err := NewPolicies([]Policy{p}); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("NewPolicies(%+v) = %v, want ErrInvalidPolicy", p, err)
		}
	}
}

func TestNewPoliciesOverlaps(t *testing.T) {
	tests := []struct {
		name string
		ps   []Policy
		want int // index refused
	}{
		{"same glob", []Policy{{Name: "a", Globs: []string{"*/v"}}, {Name: "b", Globs: []string{"*/V"}}}, 1},
		{"same regex", []Policy{{Name: "a", Regex: "x"}, {Name: "b", Regex: "x"}}, 1},
		{"after catch-all", []Policy{{Name: "all", Globs: []string{"*"}}, {Name: "b", Regex: "x"}}, 1},
		{"literal already matched", []Policy{{Name: "a", Globs: []string{"sat1/*"}}, {Name: "b", Globs: []string{"SAT1/voltage"}}}, 1},
		{"literal matched by regex", []Policy{{Name: "a", Regex: "^sat"}, {Name: "b", Globs: []string{"sat1/x"}}}, 1},
		{"same name", []Policy{{Name: "a", Globs: []string{"x"}}, {Name: "a", Globs: []string{"y"}}}, 1},
	}
	for _, tt := range tests {
		_, err := NewPolicies(tt.ps)
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Index != tt.want {
			t.Errorf("%s: NewPolicies = %v, want a PolicyError for index %d", tt.name, err, tt.want)
		}
	}
	// A wildcard glob after a narrower one is the intended use.
	if _, err := NewPolicies([]Policy{{Name: "a", Globs: []string{"sat1/voltage"}}, {Name: "b", Globs: []string{"*/voltage"}}}); err != nil {
		t.Errorf("narrow then wide = %v, want ok", err)
	}
}

// TestScoreAppliesPolicies: on both paths, limits, the expected range and
// the threshold decide, and the verdict names the policy.
func TestScoreAppliesPolicies(t *testing.T) {
	ps := mustPolicies(t, append([]Policy{
		{Name: "tank", Globs: []string{"*/pressure"}, Limit: heuristic.Above(90), Range: heuristic.Within(0, 80), Threshold: 0.3},
	}, DefaultPolicies()...))
	groups := []Group{
		{SeriesID: "sat1/pressure", UnixNanos: ns(1, 2, 3, 4), Values: []float64{20, 40, 85, 95}},
		{SeriesID: "x/VOLTAGE", UnixNanos: ns(1), Values: []float64{100}},
		{SeriesID: "sat1/other", UnixNanos: ns(1), Values: []float64{10}},
	}
	t.Run("model", func(t *testing.T) {
		d, _ := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{})
		d.SetPolicies(ps)
		got := d.Score(t.Context(), nil, groups)
		want := []Verdict{
			{UnixNanos: ns(1)[0], Score: 0.2, Source: SourceModel, Policy: "tank"},
			{UnixNanos: ns(2)[0], Score: 0.4, Anomaly: true, Source: SourceModel, Policy: "tank"},                                                                      // 0.4 >= threshold 0.3
			{UnixNanos: ns(3)[0], Score: 1, Anomaly: true, Source: SourceModel, Policy: "tank"},                                                                        // outside the range
			{UnixNanos: ns(4)[0], Score: 1, Anomaly: true, LimitViolation: true, Source: SourceModel, Policy: "tank", Explain: Explanation{Mechanism: MechanismLimit}}, // above the limit
			{UnixNanos: ns(1)[0], Score: 1, Anomaly: true, LimitViolation: true, Source: SourceModel, Policy: "voltage", Explain: Explanation{Mechanism: MechanismLimit}},
			{UnixNanos: ns(1)[0], Score: 0.1, Source: SourceModel},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Score() mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("heuristic", func(t *testing.T) {
		d, _ := newTestDetector(t, &fakeModel{}, &fakeGate{rejectErr: errors.New("open")}, Config{},
			WithHeuristic(mustHeuristic(t, heuristic.Config{NoPreset: true})))
		d.SetPolicies(ps)
		got := d.Score(t.Context(), nil, groups)
		for i, want := range []struct {
			policy         string
			anomaly, limit bool
		}{{"tank", false, false}, {"tank", false, false}, {"tank", true, false}, {"tank", true, true}, {"voltage", true, true}, {"", false, false}} {
			if g := got[i]; g.Policy != want.policy || g.Anomaly != want.anomaly || g.LimitViolation != want.limit || g.Source != SourceHeuristic {
				t.Errorf("verdict %d = %+v, want policy %q anomaly %v limit %v from the heuristic", i, g, want.policy, want.anomaly, want.limit)
			}
		}
	})
	t.Run("swap", func(t *testing.T) {
		d, _ := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{})
		d.SetPolicies(ps)
		d.SetPolicies(nil)
		if got := d.Score(t.Context(), nil, groups[2:]); got[0].Policy != "" {
			t.Errorf("after SetPolicies(nil) verdict names %q", got[0].Policy)
		}
	})
}

// TestPolicySwapRematches: a series remembers its policy per Policies
// value (policyCache), so every swap, back to an earlier value too, and
// a series evicted and back, must judge by the policies in force.
func TestPolicySwapRematches(t *testing.T) {
	a := mustPolicies(t, []Policy{{Name: "a", Globs: []string{"sat1/*"}}})
	b := mustPolicies(t, []Policy{{Name: "other", Globs: []string{"sat2/*"}}, {Name: "b", Globs: []string{"*/temp"}}})
	none := mustPolicies(t, []Policy{{Name: "other", Globs: []string{"sat2/*"}}})
	for _, gate := range []*fakeGate{{}, {rejectErr: errors.New("open")}} {
		d, _ := newTestDetector(t, &fakeModel{}, gate, Config{MaxSeries: 1})
		ts := 0
		score := func(id string) string {
			ts++
			return d.Score(t.Context(), nil, []Group{{SeriesID: id, UnixNanos: ns(ts), Values: []float64{1}}})[0].Policy
		}
		for i, step := range []struct {
			ps   *Policies
			id   string
			want string
		}{
			{a, "sat1/temp", "a"}, {a, "sat1/temp", "a"}, {b, "sat1/temp", "b"}, {nil, "sat1/temp", ""},
			{none, "sat1/temp", ""}, {a, "sat1/temp", "a"}, {none, "sat1/temp", ""},
			{b, "sat3/temp", "b"}, {a, "sat1/temp", "a"}, // one series fits: sat1/temp was evicted, back afresh
		} {
			d.SetPolicies(step.ps)
			if got := score(step.id); got != step.want {
				t.Errorf("breaker open %v, step %d: %s judged by %q, want %q", gate.rejectErr != nil, i, step.id, got, step.want)
			}
		}
	}
}

func mustHeuristic(t *testing.T, c heuristic.Config) *heuristic.Heuristic {
	t.Helper()
	h, err := heuristic.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestPoliciesCounted: anomalies a policy decides are counted, on both
// paths, so the metric agrees with the verdicts.
func TestPoliciesCounted(t *testing.T) {
	ps := mustPolicies(t, DefaultPolicies())
	groups := []Group{{SeriesID: "x/VOLTAGE", UnixNanos: ns(1, 2), Values: []float64{100, 8}}}
	for _, tt := range []struct {
		name string
		gate *fakeGate
		src  string
	}{{"model", &fakeGate{}, "model"}, {"heuristic", &fakeGate{rejectErr: errors.New("open")}, "heuristic"}} {
		d, reg := newTestDetector(t, &fakeModel{}, tt.gate, Config{}, WithHeuristic(mustHeuristic(t, heuristic.Config{NoPreset: true})))
		d.SetPolicies(ps)
		d.Score(t.Context(), nil, groups)
		if v := metricValue(t, reg, "astraguard_anomaly_anomalies_total", tt.src); v != 1 {
			t.Errorf("%s: anomalies_total = %v, want 1 (the voltage limit violation)", tt.name, v)
		}
	}
}

// expectingModel flags every sample and explains it as expected 50, band
// [40, 60], so a policy's direction and minimum deviations decide.
type expectingModel struct{}

func (expectingModel) Predict(_ context.Context, in []Group, out []Prediction) error {
	n, err := BatchSize(in, out)
	for i := range n {
		out[i] = Prediction{Score: 0.9, Anomaly: true, Warm: true,
			Explain: Explanation{Mechanism: MechanismShift, HasBand: true, Expected: 50, Lower: 40, Upper: 60}}
	}
	return err
}

func TestPolicyDirectionAndMinDeviation(t *testing.T) {
	values := []float64{80, 20, 50.4, 51, 53}
	tests := []struct {
		name   string
		policy Policy
		want   []bool // anomaly per value
	}{
		{"none", Policy{}, []bool{true, true, true, true, true}},
		{"up", Policy{Direction: DirectionUp}, []bool{true, false, true, true, true}},
		{"down", Policy{Direction: DirectionDown}, []bool{false, true, false, false, false}},
		{"absolute", Policy{MinDeviation: 1}, []bool{true, true, false, true, true}},
		{"relative", Policy{MinRelativeDeviation: 0.05}, []bool{true, true, false, false, true}}, // 5% of 50 is 2.5
		{"up and absolute", Policy{Direction: DirectionUp, MinDeviation: 2}, []bool{true, false, false, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			p.Name, p.Globs = "p", []string{"*"}
			d, _ := newTestDetector(t, expectingModel{}, &fakeGate{}, Config{})
			d.SetPolicies(mustPolicies(t, []Policy{p}))
			got := d.Score(t.Context(), nil, []Group{{SeriesID: "s", UnixNanos: ns(1, 2, 3, 4, 5), Values: values}})
			for i, v := range got {
				if v.Anomaly != tt.want[i] || v.Source != SourceModel {
					t.Errorf("value %v: anomaly %v from %v, want %v from the model", values[i], v.Anomaly, v.Source, tt.want[i])
				}
			}
		})
	}
}

// TestPolicyDirectionOnHeuristic: the heuristic reports its expected value
// (its slow mean), so a direction applies when it answers too.
func TestPolicyDirectionOnHeuristic(t *testing.T) {
	values := make([]float64, 0, 400)
	for i := range 399 {
		values = append(values, 10+float64(i%3)*0.1)
	}
	values = append(values, -50) // a drop far below the mean
	stamps := make([]int64, len(values))
	for i := range stamps {
		stamps[i] = int64(i+1) * 1e9
	}
	groups := []Group{{SeriesID: "s", UnixNanos: stamps, Values: values}}
	for _, tt := range []struct {
		dir  Direction
		want bool
	}{{DirectionBoth, true}, {DirectionDown, true}, {DirectionUp, false}} {
		d, _ := newTestDetector(t, &fakeModel{}, &fakeGate{rejectErr: errors.New("open")}, Config{},
			WithHeuristic(mustHeuristic(t, heuristic.Config{NoPreset: true})))
		d.SetPolicies(mustPolicies(t, []Policy{{Name: "p", Globs: []string{"*"}, Direction: tt.dir}}))
		got := d.Score(t.Context(), nil, groups)
		last := got[len(got)-1]
		if !last.Explain.HasBand || last.Explain.Expected < 9 || last.Explain.Expected > 11 {
			t.Fatalf("heuristic explanation %+v, want a band around 10", last.Explain)
		}
		if last.Anomaly != tt.want {
			t.Errorf("direction %v: drop to -50 anomaly = %v, want %v", tt.dir, last.Anomaly, tt.want)
		}
	}
}

// TestPolicyMechanismsOff (issue 18 item 7): a policy that turns a
// mechanism off overrules the verdicts it scored and no other; limits,
// none and other cannot be turned off.
func TestPolicyMechanismsOff(t *testing.T) {
	ps := mustPolicies(t, []Policy{{Name: "quiet-season", Globs: []string{"sat1/*"}, Off: []Mechanism{MechanismSeason, MechanismState}}})
	p := ps.Match("sat1/temp")
	band := Explanation{HasBand: true, Expected: 5, Lower: 4, Upper: 6}
	season, shift := band, band
	season.Mechanism, shift.Mechanism = MechanismSeason, MechanismShift
	vd := Verdict{Score: 0.99, Anomaly: true, Explain: season}
	p.judge(&vd, 9)
	if vd.Anomaly || vd.Score != 0 || vd.Explain.Mechanism != MechanismNone || !vd.Explain.HasBand {
		t.Errorf("season verdict under season off = %+v, want score 0, no anomaly, no mechanism, band kept", vd)
	}
	vd = Verdict{Score: 0.99, Anomaly: true, Explain: shift}
	p.judge(&vd, 9)
	if !vd.Anomaly || vd.Score != 0.99 || vd.Explain.Mechanism != MechanismShift {
		t.Errorf("shift verdict under season off = %+v, want it unchanged", vd)
	}
	for _, m := range []Mechanism{MechanismNone, MechanismLimit, MechanismOther, numMechanisms} {
		if _, err := NewPolicies([]Policy{{Name: "x", Globs: []string{"*"}, Off: []Mechanism{m}}}); err == nil {
			t.Errorf("NewPolicies with %v off = nil error, want one", m)
		}
	}
}

// TestPolicyRegexBounded: a regex longer than MaxPolicyRegexBytes is
// refused by its length, naming the bound, before it is compiled (one of
// 1.2 MB took 7.8 s and 379 MB to compile); one at the bound loads.
func TestPolicyRegexBounded(t *testing.T) {
	at := "^(" + strings.Repeat("a", MaxPolicyRegexBytes-4) + ")$"
	if _, err := NewPolicies([]Policy{{Name: "at", Regex: at}}); err != nil {
		t.Fatalf("a regex of %d bytes: %v", len(at), err)
	}
	long := strings.Repeat("(a|b)", MaxPolicyRegexBytes/5+1)
	_, err := NewPolicies([]Policy{{Name: "long", Regex: long}})
	if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), fmt.Sprintf("longer than %d", MaxPolicyRegexBytes)) {
		t.Errorf("a regex of %d bytes: %v, want refused naming the bound %d", len(long), err, MaxPolicyRegexBytes)
	}
}
