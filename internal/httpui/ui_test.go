package httpui

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/astraguard/astraguard/breaker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeHub hands out subscriptions, or refuse when set, and lets the test
// publish on them.
type fakeHub struct {
	mu      sync.Mutex
	subs    []chan breaker.Transition
	clients []string
	lost    chan struct{}
	refuse  error
}

func newFakeHub() *fakeHub { return &fakeHub{lost: make(chan struct{})} }

func (h *fakeHub) Subscribe(client string) (<-chan breaker.Transition, <-chan struct{}, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clients = append(h.clients, client)
	if h.refuse != nil {
		return nil, nil, nil, h.refuse
	}
	ch := make(chan breaker.Transition, 8)
	h.subs = append(h.subs, ch)
	return ch, h.lost, func() {}, nil
}

func (h *fakeHub) publish(t breaker.Transition) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		ch <- t
	}
}

func (h *fakeHub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

type fakeBreakers struct {
	mu    sync.Mutex
	snaps []breaker.Snapshot
}

func (b *fakeBreakers) Snapshot() []breaker.Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]breaker.Snapshot(nil), b.snaps...)
}

func (b *fakeBreakers) set(s breaker.Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.snaps = []breaker.Snapshot{s}
}

type sseEvent struct{ name, data string }

func readEvents(t *testing.T, body io.Reader) <-chan sseEvent {
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out
}

func next(t *testing.T, evs <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-evs:
		if !ok {
			t.Fatal("event stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return sseEvent{}
}

// TestEventsLive: the stream starts with the current state and delivers a
// published transition at once (the tick is an hour, so only the hub can
// have caused it), followed by a state that shows the override and the
// transition in the breaker's history.
func TestEventsLive(t *testing.T) {
	hub, bs := newFakeHub(), &fakeBreakers{}
	bs.set(breaker.Snapshot{Name: "model", State: breaker.StateClosed, Window: breaker.WindowCounts{Calls: 4, Failures: 1}})
	ui := New(hub, WithTick(time.Hour))
	srv := httptest.NewServer(ui.Handler(bs))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q, want text/event-stream", ct)
	}
	evs := readEvents(t, resp.Body)
	var st stateEvent
	if ev := next(t, evs); ev.name != "state" || json.Unmarshal([]byte(ev.data), &st) != nil {
		t.Fatalf("first event = %+v, want a state", ev)
	}
	if len(st.Breakers) != 1 || st.Breakers[0].State != "CLOSED" || st.Breakers[0].FailureRatio != 0.25 {
		t.Fatalf("first state = %+v, want model CLOSED with ratio 0.25", st.Breakers)
	}
	if ev := next(t, evs); ev.name != "anomalies" {
		t.Fatalf("second event = %+v, want the anomaly feed", ev)
	}

	expiry := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	tr := breaker.Transition{Name: "model", From: breaker.StateClosed, To: breaker.StateOpen, Forced: breaker.ForcedOpen, Reason: "maintenance", At: expiry.Add(-time.Hour)}
	bs.set(breaker.Snapshot{Name: "model", State: breaker.StateOpen, Forced: breaker.ForcedOpen, ForceReason: "maintenance", ForceExpiry: expiry})
	ui.Record(tr)
	if n := hub.subscribers(); n != 1 { // the handler subscribes before its first event
		t.Fatalf("subscribers = %d, want 1", n)
	}
	hub.publish(tr)
	if ev := next(t, evs); ev.name != "transition" || !strings.Contains(ev.data, `"to":"OPEN"`) {
		t.Fatalf("event after publish = %+v, want the transition to OPEN", ev)
	}
	ev := next(t, evs)
	st = stateEvent{}
	if ev.name != "state" || json.Unmarshal([]byte(ev.data), &st) != nil {
		t.Fatalf("event after transition = %+v, want a state", ev)
	}
	b := st.Breakers[0]
	if b.State != "OPEN" || b.Override != "FORCED_OPEN" || b.OverrideReason != "maintenance" || b.OverrideExpiry == nil || !b.OverrideExpiry.Equal(expiry) {
		t.Errorf("state after force = %+v, want OPEN, FORCED_OPEN, maintenance, expiring %v", b, expiry)
	}
	if len(b.Transitions) != 1 || b.Transitions[0].Reason != "maintenance" {
		t.Errorf("transitions = %+v, want the forced one", b.Transitions)
	}
}

// TestEventsEndWhenHubCloses: a closed hub (server shutdown) ends every
// stream, so the HTTP server's graceful shutdown is not held up.
func TestEventsEndWhenHubCloses(t *testing.T) {
	hub := newFakeHub()
	srv := httptest.NewServer(New(hub, WithTick(time.Hour)).Handler(&fakeBreakers{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	evs := readEvents(t, resp.Body)
	next(t, evs) // state
	if ev := next(t, evs); ev.name != "anomalies" || ev.data != `{"off":true,"entries":[]}` {
		t.Fatalf("second event = %+v, want the (off) anomaly feed", ev)
	}
	close(hub.lost)
	select {
	case _, ok := <-evs:
		if ok {
			t.Fatal("got another event after the hub closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream still open 10s after the hub closed")
	}
}

// TestEventsRefused: a stream the hub refuses (its bound on open streams)
// gets 429 with the hub's reason, and the hub is asked for the request's
// client as WithClientKey names it.
func TestEventsRefused(t *testing.T) {
	hub := newFakeHub()
	hub.refuse = errors.New("limit exceeded: open WatchBreakers streams: 8 per client")
	key := func(r *http.Request) string { return "key-of-" + r.Header.Get("X-Who") }
	srv := httptest.NewServer(New(hub, WithClientKey(key)).Handler(&fakeBreakers{}))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/events", nil)
	req.Header.Set("X-Who", "ops")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "8 per client") {
		t.Errorf("GET /events refused by the hub = %d %q, want 429 with the reason", resp.StatusCode, body)
	}
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if len(hub.clients) != 1 || hub.clients[0] != "key-of-ops" {
		t.Errorf("hub asked for clients %q, want [key-of-ops]", hub.clients)
	}
}

func TestRecordKeepsRecentHistory(t *testing.T) {
	ui := New(newFakeHub())
	for i := range historyLen + 5 {
		ui.Record(breaker.Transition{Name: "model", Reason: string(rune('a' + i))})
	}
	got := ui.recent("model")
	if len(got) != historyLen || got[0].Reason != string(rune('a'+historyLen+4)) {
		t.Errorf("recent() = %d transitions starting %q, want %d newest first", len(got), got[0].Reason, historyLen)
	}
}

// TestPageSelfContained: the page is served with a CSP that forbids
// other origins, and no asset refers to one.
func TestPageSelfContained(t *testing.T) {
	srv := httptest.NewServer(New(newFakeHub()).Handler(&fakeBreakers{}))
	defer srv.Close()
	for _, path := range []string{"/", "/assets/app.js", "/assets/app.css"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("GET %s = %s, CSP %q; want 200 with a strict CSP", path, resp.Status, resp.Header.Get("Content-Security-Policy"))
		}
		if len(body) == 0 {
			t.Errorf("GET %s: empty body", path)
		}
	}
	_ = fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := assets.ReadFile(p)
		for _, ext := range []string{"http://", "https://", "//fonts.", "@import"} {
			if strings.Contains(string(b), ext) {
				t.Errorf("%s refers to %q: assets must be self-contained", p, ext)
			}
		}
		return nil
	})
	if resp, err := http.Get(srv.URL + "/nope"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /nope = %s, want 404", resp.Status)
		}
	}
}
