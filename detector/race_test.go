//go:build race

package detector

// raceEnabled reports a -race build.
const raceEnabled = true
