// Package chaos holds AstraGuard's chaos suite; its code lives in the test
// files. The suite builds the real astraguard and astraguard-model binaries,
// runs them as processes on 127.0.0.1 with an in-process toxiproxy between
// the service and the model server, injects model faults (down, latency
// above the model deadline, connection resets, a slow trickle, flapping,
// the model server killed and restarted) under pipelined Detect streams,
// and checks what a user relies on: every sample gets exactly one verdict,
// in order; verdicts switch to the heuristic within failure_threshold model
// failures and say why; the breaker trips and admin and metrics agree;
// verdicts stay fast while it is open; it closes again once the fault
// clears; no goroutines leak in the service.
//
// `go test ./test/chaos/` runs every scenario with short phases (about a minute;
// skipped with -short); `make chaos` runs them with longer phases
// (-chaos.full) and prints a summary table per scenario.
package chaos
