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

// Clock learns a series' sampling interval from its timestamps. The zero
// value knows nothing; Start takes a series' first timestamp.
type Clock struct {
	Last    int64   // latest timestamp, unix ns
	Cadence float64 // the interval estimate, seconds (NextCadence; 0: unknown)
}

// Start takes the first timestamp of a series.
func (c *Clock) Start(t int64) { c.Last = t }

// Observe folds the interval since Last into the estimate. A repeated or
// earlier timestamp carries no interval, and an earlier one pulls Last
// back to it: the caller orders the samples, so a sample before Last says
// Last came from another clock (a snapshot or handover written by a
// replica whose clock ran fast, a clock since stepped back), which would
// otherwise hold the estimate still for as long as that clock was ahead.
// The interval is taken in uint64: two int64 stamps can be up to 2^64-1 ns
// apart (a client of the model server may send any int64), and t-Last in
// int64 would wrap to a negative interval, a negative cadence that no
// snapshot decoder accepts.
func (c *Clock) Observe(t int64) {
	if t > c.Last {
		c.Cadence = NextCadence(c.Cadence, float64(uint64(t)-uint64(c.Last))/1e9)
	}
	c.Last = t
}
