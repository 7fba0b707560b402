package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// scrapeClient keeps no idle connections, so none outlives a test (goleak).
var scrapeClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// ScrapeMetrics returns the /metrics exposition, in the text format, of
// the HTTP listener at addr.
func ScrapeMetrics(ctx context.Context, addr string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	res, err := scrapeClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape /metrics: %s, %v", res.Status, err)
	}
	return b, nil
}

// Samples parses a text exposition into "name{labels}" -> value, the
// format's own spelling of a sample.
func Samples(exposition []byte) (map[string]float64, error) {
	m := make(map[string]float64)
	sc := bufio.NewScanner(bytes.NewReader(exposition))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("/metrics: malformed line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: line %q: %w", line, err)
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// Metric returns the value of the sample of p's /metrics whose name and
// labels read exactly series (e.g.
// `astraguard_state_restore_errors_total{reason="corrupt"}`), and whether
// there is one.
func (p *Process) Metric(ctx context.Context, series string) (float64, bool, error) {
	b, err := ScrapeMetrics(ctx, p.HTTPAddr)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", p.Name, err)
	}
	m, err := Samples(b)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", p.Name, err)
	}
	v, ok := m[series]
	return v, ok, nil
}
