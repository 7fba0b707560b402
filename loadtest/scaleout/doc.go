// Package scaleout holds only a test: three astraguard processes on
// loopback behind one client that balances Detect streams over them with
// gRPC's round_robin; one process is killed mid-run and the client's
// streams carry on through the other two, with every issued sample
// answered exactly once. It runs the real binary, built by the test, so it
// is skipped in -short mode.
//
// No API stability promise: there is no API.
package scaleout
