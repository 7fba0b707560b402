package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"
)

// maxProfileSeconds bounds the seconds parameter of the profiler's timed
// endpoints: /debug/pprof/profile, /debug/pprof/trace and the delta
// profiles (/debug/pprof/heap?seconds=N, allocs, block, mutex, ...). Go's
// handlers take any value, so one request could hold the process's only
// CPU profile or trace, a goroutine and a connection for years; a minute
// is plenty for a look at a running service (go tool pprof asks for 30s).
const maxProfileSeconds = 60

// maxProfileBody bounds a request body to the profiler: go tool pprof
// POSTs the addresses to symbolize to /debug/pprof/symbol, which Go's
// handler reads to the end however long.
const maxProfileBody = 4 << 20

// profileHandlers are Go's profiler endpoints, each with the seconds and
// body bounds; the caller adds the authorization.
func profileHandlers() map[string]http.Handler {
	hs := map[string]http.Handler{
		"/debug/pprof/":        boundSeconds(pprof.Index, false), // also every named profile: heap, goroutine, allocs, ...
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": boundSeconds(pprof.Profile, false),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   boundSeconds(pprof.Trace, true),
	}
	for path, h := range hs {
		hs[path] = http.MaxBytesHandler(h, maxProfileBody)
	}
	return hs
}

// boundSeconds refuses with 400 a request whose seconds parameter (in the
// query, or a POST form, where Go's handlers read it too) is not a whole
// number from 1 to maxProfileSeconds, or with fractions a number in
// (0, maxProfileSeconds], as the trace handler reads it. Go's handlers
// would read a bad value as their default (30s) or as a run of years.
func boundSeconds(next http.HandlerFunc, fractions bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		for _, v := range r.Form["seconds"] {
			if err := checkSeconds(v, fractions); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		next(w, r)
	})
}

func checkSeconds(v string, fractions bool) error {
	if fractions {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f <= maxProfileSeconds {
			return nil
		}
		return fmt.Errorf("seconds=%.20q: want a number of seconds above 0 and at most %d", v, maxProfileSeconds)
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= maxProfileSeconds {
		return nil
	}
	return fmt.Errorf("seconds=%.20q: want a whole number of seconds from 1 to %d", v, maxProfileSeconds)
}
