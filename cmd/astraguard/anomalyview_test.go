package main

import (
	"io"
	"strings"
	"testing"
)

// TestAnomalyViewFlags: the view's sizes are checked at start (and by
// --check-config), each problem naming its flag, and 0 series turns the
// view off.
func TestAnomalyViewFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for valid
	}{
		{[]string{"--anomaly-view-series=0"}, ""},
		{[]string{"--anomaly-view-series=1000", "--anomaly-view-samples=1000"}, ""},
		{[]string{"--anomaly-view-samples=0"}, "--anomaly-view-samples: must be positive"},
		{[]string{"--anomaly-view-series=-1"}, "--anomaly-view-series: must not be negative"},
		{[]string{"--anomaly-view-series=100000", "--anomaly-view-samples=100000"}, "--anomaly-view-series: anomaly view: 100000 series x 100000 samples"},
		{[]string{"--anomaly-view-samples=9223372036854775807"}, "--anomaly-view-samples: anomaly view: 256 series x 9223372036854775807 samples"},
	} {
		cfg, err := parseConfig(append([]string{"--grpc-addr=127.0.0.1:0"}, tc.args...), noEnv, io.Discard)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("parseConfig(%q) = %v, want no error", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("parseConfig(%q) = %v, want %q", tc.args, err, tc.want)
		case tc.want == "":
			v, err := newAnomalyView(cfg)
			if err != nil {
				t.Fatalf("newAnomalyView: %v", err)
			}
			if off := v.Sizes().Off; off != (cfg.anomalyView.Series == 0) {
				t.Errorf("%q: view off = %v", tc.args, off)
			}
		}
	}
}
