package loadtest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

const exposition = `# HELP astraguard_grpc_server_started_total Total number of RPCs started on the server.
# TYPE astraguard_grpc_server_started_total counter
astraguard_grpc_server_started_total{grpc_method="Detect",grpc_service="astraguard.v1.DetectorService",grpc_type="bidi_stream"} 3
astraguard_grpc_server_started_total{grpc_method="DetectBatch",grpc_service="astraguard.v1.DetectorService",grpc_type="unary"} 5
astraguard_grpc_server_started_total{grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"} 2
astraguard_grpc_server_started_total_extra{grpc_method="Detect"} 100
go_goroutines 42
go_goroutines_other 7
odd{a_grpc_method="Detect"} 9
`

func TestMetricSum(t *testing.T) {
	tests := []struct {
		name      string
		metric    string
		labels    []string
		want      float64
		wantFound bool
	}{
		{"one label picks one series", "astraguard_grpc_server_started_total", []string{`grpc_method="Detect"`}, 3, true},
		{"no label sums all", "astraguard_grpc_server_started_total", nil, 10, true},
		{"two labels", "astraguard_grpc_server_started_total", []string{`grpc_type="unary"`, `grpc_method="Check"`}, 2, true},
		{"no labels in exposition", "go_goroutines", nil, 42, true},
		{"label must start a pair", "odd", []string{`grpc_method="Detect"`}, 0, false},
		{"missing metric", "nope", nil, 0, false},
		{"no series matches", "go_goroutines", []string{`x="y"`}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := MetricSum([]byte(exposition), tt.metric, tt.labels...)
			if got != tt.want || found != tt.wantFound {
				t.Errorf("MetricSum(%s, %q) = %v, %v; want %v, %v", tt.metric, tt.labels, got, found, tt.want, tt.wantFound)
			}
		})
	}
}

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(exposition))
	}))
	defer srv.Close()
	c := srv.Client()
	defer c.CloseIdleConnections()
	b, err := Scrape(t.Context(), c, srv.URL+"/metrics")
	if err != nil {
		t.Fatalf("Scrape() = %v", err)
	}
	if v, _ := MetricSum(b, "go_goroutines"); v != 42 {
		t.Errorf("Scrape() then MetricSum(go_goroutines) = %v, want 42", v)
	}
	if _, err := Scrape(t.Context(), c, srv.URL+"/other"); err == nil {
		t.Errorf("Scrape(404) = nil error, want one")
	}
}

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{"present", "Name:\tastraguard\nVmPeak:\t  900 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 100 kB\n", 12345 << 10, false},
		{"absent", "Name:\tx\n", 0, true},
		{"other unit", "VmHWM:\t 1 MB\n", 0, true},
		{"not a number", "VmHWM:\t x kB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmHWM([]byte(tt.status))
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("parseVmHWM(%q) = %v, %v; want %v, error %v", tt.status, got, err, tt.want, tt.wantErr)
			}
		})
	}
	if got, err := PeakRSS(os.Getpid()); err != nil || got <= 0 {
		t.Skipf("PeakRSS(self) = %v, %v (no /proc here?)", got, err)
	}
}
