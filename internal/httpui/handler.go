package httpui

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"time"
)

//go:embed assets
var assets embed.FS

// csp lets the page load only its own script and style: nothing external.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the page over b's breakers: GET / (the page), /assets/
// (its script and style), /events (server-sent events), /api/breakers
// (the same state as JSON), /api/history (the last hour of fallbacks per
// breaker and of verdict traffic), /api/anomalies (the feed) and
// /api/anomalies/context?series=ID (a kept series' recent samples).
func (u *UI) Handler(b Breakers) http.Handler {
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", withSecure(http.FileServerFS(static))))
	mux.HandleFunc("GET /api/breakers", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, u.state(b))
	})
	mux.HandleFunc("GET /api/history", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, u.historyOf(0))
	})
	mux.HandleFunc("GET /api/anomalies", func(w http.ResponseWriter, r *http.Request) {
		if !u.allowAnomalies(w, r) {
			return
		}
		data, _ := u.feed(0)
		writeRaw(w, data)
	})
	mux.HandleFunc("GET /api/anomalies/context", func(w http.ResponseWriter, r *http.Request) {
		if !u.allowAnomalies(w, r) {
			return
		}
		var data []byte
		ok := false
		if u.anomalies != nil {
			data, ok = u.anomalies.Context(r.URL.Query().Get("series"))
		}
		if !ok {
			secure(w)
			http.Error(w, "series not kept: the anomaly view keeps the recently flagged series only", http.StatusNotFound)
			return
		}
		writeRaw(w, data)
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) { u.events(w, r, b) })
	return mux
}

// allowAnomalies reports whether r may see the anomaly data, else
// answers the refusal (WithAnomalyAccess).
func (u *UI) allowAnomalies(w http.ResponseWriter, r *http.Request) bool {
	code, msg := u.anomalyAccess(r)
	if code == 0 {
		return true
	}
	secure(w)
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="astraguard"`)
	}
	http.Error(w, msg, code)
	return false
}

// deniedFeed is the "anomalies" event of a stream not allowed the data.
var deniedFeed = []byte(`{"off":true,"denied":true,"entries":[]}`)

func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeRaw(w, data)
}

func writeRaw(w http.ResponseWriter, data []byte) {
	secure(w)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

// feed returns the "anomalies" event's JSON: the feed entries newer than
// after and whether the view is off, with the newest seq.
func (u *UI) feed(after uint64) ([]byte, uint64) {
	var entries []byte
	last := after
	if u.anomalies != nil {
		entries, last = u.anomalies.Feed(after)
	}
	if entries == nil {
		return []byte(`{"off":true,"entries":[]}`), last
	}
	return append(append([]byte(`{"off":false,"entries":`), entries...), '}'), last
}

func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func withSecure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		next.ServeHTTP(w, r)
	})
}

// events streams "state" every tick and "transition" (then "state") the
// moment the hub publishes one. It returns when the client leaves or the
// hub drops the watcher; the browser's EventSource then reconnects.
func (u *UI) events(w http.ResponseWriter, r *http.Request, b Breakers) {
	events, lost, cancel, err := u.hub.Subscribe(u.clientKey(r))
	if err != nil {
		// EventSource does not retry a refused stream; the page says it
		// is disconnected and a reload tries again.
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
	defer cancel()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // no proxy buffering of the stream
	send := func(name string, v any) bool {
		data, err := json.Marshal(v)
		if err == nil {
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			u.logger.DebugContext(r.Context(), "breaker page stream ended", "err", err)
			return false
		}
		return true
	}
	sendRaw := func(name string, data []byte) bool {
		_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
		if err == nil {
			err = rc.Flush()
		}
		return err == nil
	}
	feed, seen := u.feed(0)
	denied, _ := u.anomalyAccess(r)
	if denied != 0 {
		feed = deniedFeed
	}
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil || !send("state", u.state(b)) || !sendRaw("anomalies", feed) {
		return
	}
	tick := time.NewTicker(u.tick)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-lost:
			return
		case t := <-events:
			if !send("transition", struct {
				Name string `json:"name"`
				transitionView
			}{t.Name, transitionToView(t)}) || !send("state", u.state(b)) {
				return
			}
		case <-tick.C:
			if !send("state", u.state(b)) {
				return
			}
			if denied != 0 {
				continue
			}
			if feed, last := u.feed(seen); last != seen {
				if !sendRaw("anomalies", feed) {
					return
				}
				seen = last
			}
		}
	}
}
