// Package breakerprom exports the breakers of a breaker.Registry as
// Prometheus metrics, read from Snapshot at scrape time:
//
//	astraguard_circuit_state{circuit_name}                 gauge, 0=CLOSED 1=OPEN 2=HALF_OPEN
//	astraguard_circuit_failures_total{circuit_name}        counter
//	astraguard_circuit_successes_total{circuit_name}       counter
//	astraguard_circuit_trips_total{circuit_name}           counter, times opened
//	astraguard_circuit_recoveries_total{circuit_name}      counter, times closed again after opening
//	astraguard_circuit_failure_ratio{circuit_name}         gauge, failures/calls in the breaker's window
//	astraguard_circuit_open_duration_seconds{circuit_name} gauge (only grows; a gauge so the seed name needs no _total), time spent open including now
//	astraguard_circuit_rejected_total{circuit_name}        counter, calls refused
//	astraguard_circuit_ignored_total{circuit_name}         counter, outcomes classified Ignored
//	astraguard_circuit_forced{circuit_name}                gauge, 0=none 1=forced open 2=forced closed
//
// The first seven names are the seed's contract. Successes and failures count
// the same outcomes the breaker counts, so the seed's query
// rate(failures_total) / (rate(successes_total) + rate(failures_total)) gives
// the failure ratio.
//
// It keeps no state of its own, never registers itself (the caller passes
// the Collector to its own prometheus.Registerer) and never feeds anything
// back into the breakers. Collect is safe for concurrent use. No API
// stability promise.
package breakerprom
