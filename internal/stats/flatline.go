package stats

import "math"

// Flatline flags a flatlined signal, a classic telemetry fault (a frozen
// sensor, a dead exporter reporting 0): a run of identical values that
// breaks the record of every earlier run by FlatlineMargin. Runs shorter
// than FlatlineMin samples never count, so series that merely repeat a
// value now and then stay quiet. The zero value has seen no run.
type Flatline struct {
	Run, Record uint32 // current run of repeats; longest finished run
}

// FlatlineMargin and FlatlineMin: a run flags once it is 1.1 times the
// longest earlier run, and at least 33 samples (1.1 times 30).
const (
	FlatlineMargin = 1.1
	FlatlineMin    = 30
)

// Update extends the current run (repeat: the sample equals the one
// before) or ends it, and reports whether this is the one sample at which
// the run becomes record-breaking.
func (f *Flatline) Update(repeat bool) bool {
	if !repeat {
		f.Record = max(f.Record, f.Run)
		f.Run = 0
		return false
	}
	if f.Run < math.MaxUint32 {
		f.Run++
	}
	return f.Run == uint32(math.Ceil(FlatlineMargin*float64(max(f.Record, FlatlineMin))))
}
