package main

import (
	"io"
	"net/http"

	"github.com/astraguard/astraguard/breaker"
)

// readyz answers /readyz: 200 while the service serves with its model; 503
// while it drains, and while the model's breaker is open because the model
// failed (down, timing out, rejecting the service's calls, answering
// garbage), so an operator or a load balancer sees a degraded instance. An
// open breaker that an operator forced is a decision, not a fault, and
// keeps the instance ready. Either way the service still answers every
// sample (from the heuristic), and gRPC health stays SERVING: probe that
// instead to keep a degraded instance in rotation.
func (a *app) readyz(w http.ResponseWriter, _ *http.Request) {
	if !a.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	if a.modelGate != nil {
		if s := a.modelGate.Snapshot(); s.State == breaker.StateOpen && s.Forced == breaker.ForceNone {
			http.Error(w, "not ready: the model breaker is open (model failing); the heuristic answers", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = io.WriteString(w, "ready\n")
}
