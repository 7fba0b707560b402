package httpui

import (
	"context"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

// fakeAnomalies is an Anomalies with fixed JSON and settable traffic.
type fakeAnomalies struct {
	feed    string
	last    uint64
	traffic map[string]uint64
}

func (f *fakeAnomalies) Feed(after uint64) ([]byte, uint64) {
	if after >= f.last {
		return []byte("[]"), after
	}
	return []byte(f.feed), f.last
}

func (f *fakeAnomalies) Context(series string) ([]byte, bool) {
	if series != "sat-1/v" {
		return nil, false
	}
	return []byte(`{"series":"sat-1/v","points":[]}`), true
}

func (f *fakeAnomalies) Traffic() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		for name, n := range f.traffic {
			if !yield(name, n) {
				return
			}
		}
	}
}

// TestHistoryFromServer: the fallback and traffic history is sampled on
// the server, so /api/history (what a reloaded page reads) holds every
// step since the start, per breaker and per category, as increases per
// step; each state event repeats the last steps; the ring stays an hour.
func TestHistoryFromServer(t *testing.T) {
	bs := &fakeBreakers{}
	an := &fakeAnomalies{traffic: map[string]uint64{"model": 0}}
	ui := New(newFakeHub(), WithAnomalies(an))
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for i := range historySteps + 10 {
		bs.set(breaker.Snapshot{Name: "model", Totals: breaker.Totals{Rejected: uint64(3 * i), Failures: uint64(i)}})
		an.traffic["model"] = uint64(100 * i)
		if i >= 50 {
			an.traffic["heuristic: breaker_open"] = uint64(7 * (i - 50))
		}
		ui.sample(t0.Add(time.Duration(i)*time.Second), bs)
	}
	srv := httptest.NewServer(ui.Handler(bs))
	defer srv.Close()
	var h historyEvent
	getJSON(t, srv.URL+"/api/history", &h)
	if got := h.Fallbacks.Series["model"]; len(got) != historySteps || got[0] != 4 || got[len(got)-1] != 4 {
		t.Errorf("model fallbacks = %d steps starting %v, want %d steps of 4", len(got), got[:min(3, len(got))], historySteps)
	}
	if got := h.Traffic.Series["model"]; len(got) != historySteps || got[historySteps-1] != 100 {
		t.Errorf("model traffic = %d steps, want %d ending in 100", len(got), historySteps)
	}
	if got := h.Traffic.Series["heuristic: breaker_open"]; len(got) != historySteps || got[historySteps-1] != 7 {
		t.Errorf("breaker_open traffic = %d steps, want %d ending in 7", len(got), historySteps)
	}
	if want := t0.Add((historySteps + 9) * time.Second); !h.Fallbacks.At.Equal(want) || h.Fallbacks.StepSeconds != 1 {
		t.Errorf("history at %v, step %vs; want %v, 1s", h.Fallbacks.At, h.Fallbacks.StepSeconds, want)
	}
	var st stateEvent
	getJSON(t, srv.URL+"/api/breakers", &st)
	if got := st.Recent.Fallbacks.Series["model"]; len(got) != recentSteps {
		t.Errorf("state's recent steps = %v, want %d", got, recentSteps)
	}
}

// TestAnomalyEndpoints: the feed is relayed as an "anomalies" event (all
// of it first, then only what is new), and a kept series' context is
// served while an unknown one is 404.
func TestAnomalyEndpoints(t *testing.T) {
	an := &fakeAnomalies{feed: `[{"seq":2,"series":"sat-1/v"},{"seq":1,"series":"sat-2/v"}]`, last: 2}
	srv := httptest.NewServer(New(newFakeHub(), WithAnomalies(an), WithTick(time.Hour)).Handler(&fakeBreakers{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	evs := readEvents(t, resp.Body)
	next(t, evs) // state
	if ev := next(t, evs); ev.name != "anomalies" || ev.data != `{"off":false,"entries":`+an.feed+`}` {
		t.Errorf("anomalies event = %+v, want the whole feed", ev)
	}
	r, err := http.Get(srv.URL + "/api/anomalies/context?series=sat-1%2Fv")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("context of a kept series: %s, CSP %q", r.Status, r.Header.Get("Content-Security-Policy"))
	}
	r, err = http.Get(srv.URL + "/api/anomalies/context?series=gone")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("context of an unknown series: %s, want 404", r.Status)
	}
}

// TestAnomalyAccess: a request WithAnomalyAccess refuses gets the
// refusal from both anomaly endpoints (401 with a Bearer challenge) and
// an event stream without anomalies, while the breakers stay readable.
func TestAnomalyAccess(t *testing.T) {
	an := &fakeAnomalies{feed: `[{"seq":1,"series":"sat-1/v"}]`, last: 1}
	deny := func(r *http.Request) (int, string) {
		if r.Header.Get("Authorization") == "Bearer ok" {
			return 0, ""
		}
		return http.StatusUnauthorized, "needs credentials"
	}
	srv := httptest.NewServer(New(newFakeHub(), WithAnomalies(an), WithTick(time.Hour), WithAnomalyAccess(deny)).Handler(&fakeBreakers{}))
	defer srv.Close()
	get := func(path, authz string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, path := range []string{"/api/anomalies", "/api/anomalies/context?series=sat-1%2Fv"} {
		resp := get(path, "")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" || strings.Contains(string(body), "sat-1") {
			t.Errorf("GET %s without credentials = %s %q, want 401 with a challenge and no data", path, resp.Status, body)
		}
		resp = get(path, "Bearer ok")
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s allowed = %s, want 200", path, resp.Status)
		}
	}
	if resp := get("/api/breakers", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/breakers = %s, want 200: the breaker reads are not the anomaly data", resp.Status)
	} else {
		resp.Body.Close()
	}
	for authz, want := range map[string]string{"": `{"off":true,"denied":true,"entries":[]}`, "Bearer ok": `{"off":false,"entries":` + an.feed + `}`} {
		resp := get("/events", authz)
		evs := readEvents(t, resp.Body)
		next(t, evs) // state
		if ev := next(t, evs); ev.name != "anomalies" || ev.data != want {
			t.Errorf("events with %q: anomalies event %+v, want %s", authz, ev, want)
		}
		resp.Body.Close()
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestRunStops: Run samples until its context ends, then returns (goleak
// checks nothing is left running).
func TestRunStops(t *testing.T) {
	ui := New(newFakeHub(), WithTick(time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); ui.Run(ctx, &fakeBreakers{}) }()
	cancel()
	<-done
}
