// Package loadtest drives the DetectorService over real gRPC connections to
// measure what a sample costs: throughput, server CPU per sample and lockstep
// round-trip latency. It also holds Echo, a bare DetectorService that answers
// without scoring, which is the floor any real implementation is compared
// against.
//
// For scale-out and soak runs, Resilient drives a client.Client, which
// keeps every request until it is answered and re-sends the unanswered ones
// on a new stream when one fails (on the replica gRPC's ring_hash then
// picks), so a run can prove that no sample went without exactly one
// verdict. Scrape, MetricSum and PeakRSS read a server's
// /metrics and peak memory.
//
// It deliberately does not start or stop the servers it measures (the
// bench-service script does), and it does not tune anything: it reports.
// Server CPU comes from /proc/<pid>/stat, so CPU figures need Linux.
//
// Concurrency: Echo is safe for concurrent streams. A Workload hands out
// Feeds that each own a disjoint set of series; a Feed is used by one
// goroutine at a time, and the Workload must not be split again while
// Feeds from an earlier split are in use. Throughput, Resilient and
// Lockstep start goroutines and wait for all of them before returning.
//
// No API stability promise: this is a benchmark tool, not a client library.
package loadtest
