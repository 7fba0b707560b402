// Package restart tests state checkpoints through real processes: it
// builds cmd/astraguard and cmd/astraguard-model, runs them on loopback
// with a --state-dir, stops them with SIGTERM or SIGKILL, restarts them on
// the same directory and checks what they remember: series state (every
// verdict after a graceful restart equals the uninterrupted run's, bit for
// bit), breaker overrides and open breakers, and that a damaged snapshot
// is set aside and counted instead of crashing the process.
//
// It holds tests only.
package restart
