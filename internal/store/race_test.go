//go:build race

package store_test

// raceEnabled reports a -race build.
const raceEnabled = true
