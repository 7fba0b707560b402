package model

// Mechanism names the detector behind a score, so an operator can tell a
// level shift from a broken daily pattern or a frozen sensor.
type Mechanism uint8

// Mechanisms. The first three are the likelihood features, in feature-bit
// order (Mechanism(i+1) is feature bit i).
const (
	MechanismNone    Mechanism = iota // score 0: nothing fired
	MechanismShift                    // the fast mean left the slow one (level shift, spike)
	MechanismSeason                   // the value left its time-of-day profile (broken daily pattern)
	MechanismNovelty                  // unseen sequences of value levels (new behaviour)
	MechanismStuck                    // a record-breaking run of identical values (flatline)
	MechanismRecord                   // a value beyond everything seen so far (new extreme)
	MechanismLimit                    // a value beyond ±1e30, implausible for any telemetry
	_                                 // 7 is the service's "other"
	MechanismContext                  // the series left its own short-term behaviour (predictor error)
	MechanismState                    // a few-valued series: unseen state or transition, dwell out of character
)

var mechanismNames = [...]string{"none", "shift", "season", "novelty", "stuck", "record", "limit", "other", "context", "state"}

// String returns the mechanism's lowercase name, as the API and agctl show
// it.
func (m Mechanism) String() string {
	if int(m) < len(mechanismNames) {
		return mechanismNames[m]
	}
	return "unknown"
}
