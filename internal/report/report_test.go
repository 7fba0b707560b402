package report

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestDownsampleKeepsEveryFlag draws 200,000 samples in 1000 pixels: the
// value line stays within two points per pixel column, each of the
// distant flags keeps its mark, and a one-sample spike still reaches the
// top of the chart.
func TestDownsampleKeepsEveryFlag(t *testing.T) {
	const n = 200_000
	s := Series{ID: "big"}
	flagged := map[int]bool{10: true, 50_000: true, 123_457: true, 199_999: true}
	for i := range n {
		x := Sample{UnixNanos: int64(i) * int64(time.Second), Value: math.Sin(float64(i) / 500), HasBand: true, Expected: 0, Lower: -1.2, Upper: 1.2}
		if flagged[i] {
			x.Flag, x.Mechanism = true, "shift"
		}
		if i == 123_457 {
			x.Value = 40 // a spike of one sample
		}
		s.Samples = append(s.Samples, x)
	}
	svg := string(draw(s, 1000))
	if got := strings.Count(svg, `class="flag"`); got != len(flagged) {
		t.Errorf("flag marks = %d, want %d", got, len(flagged))
	}
	line := svg[strings.Index(svg, `class="value" points="`):]
	line = line[len(`class="value" points="`):strings.Index(line, `"/>`)]
	if pts := strings.Count(line, " ") + 1; pts > 2*(1000-padL-padR) {
		t.Errorf("value line has %d points for %d pixels", pts, 1000-padL-padR)
	}
	top := num(padT + float64(chartHeight-padT-padB)*0.05/1.1) // 40 sits at the top of the range, below its 5% padding
	if !strings.Contains(line, ","+top) {
		t.Errorf("the spike's column does not reach y=%s", top)
	}
	sum := summarize(s, "a")
	if sum.Flags != len(flagged) || sum.ByMechanism[0] != len(flagged) || sum.Samples != n {
		t.Errorf("summary = %+v, want %d flags, all shift, %d samples", sum, len(flagged), n)
	}
}

// TestLabels resolves both formats: NAB's windows by time, the
// spacecraft's by row (after n_train, clipped to the series), each matched
// to a series named from another root.
func TestLabels(t *testing.T) {
	nanos := make([]int64, 100)
	for i := range nanos {
		nanos[i] = int64(i) * 60e9
	}
	sc, err := ParseLabels([]byte(`[{"series": "MSL/P-14", "n_train": 50, "anomaly_sequences": [[5, 10], [45, 60]]},
		{"series": "MSL/P-14", "n_train": 50, "anomaly_sequences": [[20, 21]]}, {"series": "SMAP/A-1", "n_train": 3, "anomaly_sequences": []}]`))
	if err != nil {
		t.Fatal(err)
	}
	ws, ok := sc.For("P-14", nanos)
	want := [][2]int64{{nanos[55], nanos[60]}, {nanos[95], nanos[99]}, {nanos[70], nanos[71]}}
	if !ok || len(ws) != len(want) {
		t.Fatalf("For(P-14) = %v, %v; want %v", ws, ok, want)
	}
	for i := range want {
		if ws[i] != want[i] {
			t.Errorf("window %d = %v, want %v", i, ws[i], want[i])
		}
	}
	if ws, ok := sc.For("SMAP/A-1", nanos); !ok || len(ws) != 0 {
		t.Errorf("For(SMAP/A-1) = %v, %v; want labelled, no window", ws, ok)
	}
	if _, ok := sc.For("other", nanos); ok {
		t.Error("an unlabelled series is labelled")
	}

	nab, err := ParseLabels([]byte(`{"realKnownCause/machine.csv": [["1970-01-01 00:10:00.000000", "1970-01-01 00:20:00.000000"]]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ws, ok := nab.For("realKnownCause/machine", nanos); !ok || len(ws) != 1 || ws[0] != [2]int64{nanos[10], nanos[20]} {
		t.Errorf("For(machine) = %v, %v; want minutes 10 to 20", ws, ok)
	}
	for _, bad := range []string{``, `"x"`, `{"a.csv": [["2014-01-01", "x"]]}`, `{"a.csv": [["2014-01-02 00:00:00", "2014-01-01 00:00:00"]]}`,
		`[{"n_train": 1}]`, `[{"series": "a", "n_train": 1, "anomaly_sequences": [[5, 2]]}]`} {
		if _, err := ParseLabels([]byte(bad)); err == nil {
			t.Errorf("ParseLabels(%q) = nil error, want one", bad)
		}
	}
}

// TestMechanismsMatchTheAPI: the summary has a column for every mechanism
// the API names, so none is counted as "other" by omission.
func TestMechanismsMatchTheAPI(t *testing.T) {
	for name, n := range astraguardv1.Mechanism_value {
		word := strings.ToLower(strings.TrimPrefix(name, "MECHANISM_"))
		if n != 0 && !slices.Contains(Mechanisms, word) {
			t.Errorf("mechanism %s has no summary column", word)
		}
	}
	if len(Mechanisms) != len(astraguardv1.Mechanism_value)-1 {
		t.Errorf("%d summary columns for %d API mechanisms", len(Mechanisms), len(astraguardv1.Mechanism_value)-1)
	}
}
