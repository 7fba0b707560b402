// Package scaleout holds only a test: astraguard processes on loopback
// behind one client.Client, which places every series on one replica with
// gRPC's ring_hash. A replica is killed mid-run, drained, or added, and the
// test checks that every sample is answered exactly once, that only the
// series that had to move moved, and which of them warm up again. It runs
// the real binary, built by the test, so it is skipped in -short mode.
//
// No API stability promise: there is no API.
package scaleout
