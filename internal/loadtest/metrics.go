package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Scrape fetches a Prometheus text exposition (a /metrics page) with c.
func Scrape(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return b, nil
}

// MetricSum adds up the samples of metric name whose label set contains
// every one of labels, each written as in the exposition (`k="v"`), and
// tells whether any matched. It reads the text format only, enough for
// counters and gauges; a histogram's series are name_bucket, name_sum and
// name_count.
func MetricSum(exposition []byte, name string, labels ...string) (float64, bool) {
	var sum float64
	found := false
	sc := bufio.NewScanner(bytes.NewReader(exposition))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a comment, another metric, or one whose name only starts with name
		}
		var set string
		if rest[0] == '{' {
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				continue
			}
			set, rest = rest[1:end], rest[end+1:]
		}
		if !hasLabels(set, labels) {
			continue
		}
		f := strings.Fields(rest) // value, then an optional timestamp
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}

// hasLabels tells whether the label set holds every label; a label must
// start the set or follow a comma, so `method="x"` does not match
// `grpc_method="x"`.
func hasLabels(set string, labels []string) bool {
	for _, l := range labels {
		if !strings.HasPrefix(set, l) && !strings.Contains(set, ","+l) {
			return false
		}
	}
	return true
}

// PeakRSS returns process pid's peak resident set size in bytes, VmHWM in
// /proc/<pid>/status (Linux only).
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak rss: %w", err)
	}
	return parseVmHWM(b)
}

func parseVmHWM(status []byte) (int64, error) {
	for line := range strings.Lines(string(status)) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("peak rss: malformed %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("peak rss: %w", err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("peak rss: no VmHWM in status")
}
