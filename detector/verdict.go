package detector

// Group is a batch of samples of one series, in time order. UnixNanos is
// either empty (the detector stamps every value with the batch's receive
// time) or as long as Values.
type Group struct {
	SeriesID  string
	UnixNanos []int64
	Values    []float64
}

// Source says which detector produced a verdict.
type Source uint8

// Sources of a verdict.
const (
	SourceNone      Source = iota // the sample could not be scored
	SourceModel                   // the model scored it
	SourceHeuristic               // the heuristic scored it
)

// String returns the metric label value of s.
func (s Source) String() string {
	switch s {
	case SourceModel:
		return "model"
	case SourceHeuristic:
		return "heuristic"
	default:
		return "none"
	}
}

// Reason says why the heuristic answered instead of the model.
type Reason uint8

// Fallback reasons. Their order matches the API's FallbackReason enum.
const (
	ReasonNone               Reason = iota // the model answered
	ReasonBreakerOpen                      // the breaker is open
	ReasonForcedOpen                       // an operator forced the breaker open
	ReasonProbeLimit                       // half-open and all probe slots are taken
	ReasonModelError                       // the model call failed
	ReasonModelTimeout                     // the model missed its deadline
	ReasonWarmingUp                        // the model is still learning the series
	ReasonSeriesBusy                       // another call had this series at the remote model
	ReasonModelInvalidOutput               // the model's output was unusable (ErrInvalidOutput)
	numReasons
)

var reasonNames = [numReasons]string{"none", "breaker_open", "forced_open", "probe_limit", "model_error", "model_timeout", "warming_up", "series_busy", "model_invalid_output"}

// String returns the metric label value of r.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// ErrorCode says why a sample could not be scored. Its order matches the
// API's SampleErrorCode enum.
type ErrorCode uint8

// Sample error codes.
const (
	ErrNone             ErrorCode = iota
	ErrNotFinite                  // NaN or ±Inf
	ErrMissingSeriesID            // empty series id
	ErrInvalidSeriesID            // too long or not UTF-8
	ErrInvalidTimestamp           // negative or too far in the future
	ErrLengthMismatch             // UnixNanos neither empty nor len(Values)
	ErrOutOfOrder                 // older than the series' last sample
	ErrTooManySeries              // no longer produced: a full table evicts (kept for the API's numbering)
	numErrorCodes
)

var errorMessages = [numErrorCodes]string{
	"",
	"value is NaN or infinite",
	"series id is empty",
	"series id is too long or not valid UTF-8",
	"timestamp is negative or too far in the future",
	"unix_nanos must be empty or as long as values",
	"timestamp is older than the series' last sample",
	"too many series: the detector tracks its maximum",
}

// Message returns a human-readable explanation of c.
func (c ErrorCode) Message() string {
	if c < numErrorCodes {
		return errorMessages[c]
	}
	return "unknown error"
}

// Verdict is the outcome for one sample. When Err is not ErrNone the
// sample was not scored and Score, Anomaly and Source are zero.
type Verdict struct {
	UnixNanos      int64
	Score          float64
	Anomaly        bool
	LimitViolation bool
	Source         Source
	Reason         Reason
	Err            ErrorCode
	// Explain is the model's explanation; from the heuristic, the mechanism
	// (limit, or shift when its statistical score is above 0) and its band.
	Explain Explanation
	// Policy names the policy that judged the sample; "" for none.
	Policy string
}
