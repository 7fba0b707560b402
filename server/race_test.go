//go:build race

package server

// raceEnabled reports a -race build: the race detector makes sync.Pool
// drop items at random, so allocation counts mean nothing under it.
const raceEnabled = true
