package main

import (
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestREADMEModelVerdict replays the README's example CSV
// (examples/data/sat1-temperature.csv, 360 one-minute samples) through
// the real wiring with default flags, as `agctl replay` sends it: the
// first 300 samples are the model's warm-up (heuristic, WARMING_UP), the
// rest come from the model, and exactly one is an anomaly, the spike the
// README shows, flagged by the model as a new extreme.
func TestREADMEModelVerdict(t *testing.T) {
	f, err := os.Open("../../examples/data/sat1-temperature.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := &astraguardv1.SeriesSamples{SeriesId: "sat1-temperature"}
	for _, r := range rows[1:] {
		ts, err1 := time.Parse(time.DateTime, r[0])
		v, err2 := strconv.ParseFloat(r[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %q: %v %v", r, err1, err2)
		}
		s.UnixNanos, s.Values = append(s.UnixNanos, ts.UnixNano()), append(s.Values, v)
	}
	addrs := runService(t)
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{s}})
	if err != nil {
		t.Fatal(err)
	}
	var model, warming int
	var anomalies []string
	for i, v := range resp.GetVerdicts() {
		switch {
		case v.GetSource() == astraguardv1.Source_SOURCE_MODEL:
			model++
		case v.GetFallbackReason() == astraguardv1.FallbackReason_FALLBACK_REASON_WARMING_UP:
			warming++
		}
		if v.GetAnomaly() {
			anomalies = append(anomalies, strings.Join([]string{rows[i+1][0], rows[i+1][1], strings.ToLower(strings.TrimPrefix(v.GetSource().String(), "SOURCE_")),
				strings.ToLower(strings.TrimPrefix(v.GetMechanism().String(), "MECHANISM_"))}, " "))
		}
	}
	if model != 60 || warming != 300 {
		t.Errorf("verdicts: %d from the model, %d warming up; want 60 and 300 (README)", model, warming)
	}
	want := "2026-11-01 05:45:00 27.50 model record"
	if len(anomalies) != 1 || anomalies[0] != want {
		t.Errorf("anomalies %q, want exactly [%q] (README)", anomalies, want)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"go run ./cmd/agctl replay --data examples/data/sat1-temperature.csv --out /tmp/ag-demo",
		"2026-11-01 05:45:00,27.50,1,1,model,,record",
	} {
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md lacks %q", line)
		}
	}
}
