package stats

// RefCadence is the sampling interval, in seconds, at which a detector's
// flag level holds per sample: five minutes, NAB's usual cadence. A series
// sampled n times as often takes n looks in the same time, so its tail
// probabilities are multiplied by n before scoring (LogTailRate with
// tests RefCadence/cadence), and false alarms per day, not per sample,
// stay put.
const RefCadence = 300.0

// cadenceHalfLife is the half-life, in samples, of the sampling-interval
// estimate; cadenceGapCap bounds how much one gap in the data moves it.
const (
	cadenceHalfLife = 16
	cadenceGapCap   = 4
)

var aCadence = Alpha(cadenceHalfLife)

// NextCadence folds one interval iv (seconds, positive) into the cadence
// estimate c (0: none yet) and returns the new estimate: an EWMA of the
// intervals with a half-life of 16 samples, each interval capped at four
// times the estimate so one outage in the data does not redefine it.
func NextCadence(c, iv float64) float64 {
	if c == 0 {
		return iv
	}
	return c + aCadence*(min(iv, cadenceGapCap*c)-c)
}
