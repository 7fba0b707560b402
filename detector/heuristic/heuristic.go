package heuristic

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"

	"github.com/astraguard/astraguard/internal/stats"
)

// ErrInvalidConfig is returned by New for out-of-range settings.
var ErrInvalidConfig = errors.New("invalid heuristic config")

// Config tunes the heuristic. The zero value works: preset limits on, and
// each numeric field takes the documented default when zero.
type Config struct {
	// Limits adds or overrides limits by channel name (see Channel; names
	// match case-insensitively, so x/VOLTAGE has the voltage limit). They
	// are merged over PresetLimits unless NoPreset is set.
	Limits map[string]Limit

	// SeriesLimits sets limits for full series ids; they take precedence
	// over channel limits.
	SeriesLimits map[string]Limit

	// NoPreset drops PresetLimits, leaving only Limits and SeriesLimits.
	NoPreset bool

	// Learning is the number of samples per series during which the
	// statistical score is not reported (limits still apply). Default 150.
	Learning int

	// HalfLife is the half-life, in samples, of the mean and absolute
	// deviations defining "normal". Default 3200.
	HalfLife float64

	// Flag is the statistical score at or above which a sample
	// is flagged. Default 0.55 (a tail probability of about 3e-6).
	Flag float64

	// Quiet is the number of samples after a statistical flag during which
	// the statistical score is 0, so one event is reported once. Default
	// 100; negative disables it.
	Quiet int

	// StepHalfLife is the half-life, in samples, of the smoothing of the
	// one-step predictor's error before it is calibrated (telemanom's
	// error smoothing). Default 32.
	StepHalfLife float64

	// Levels is the most distinct values a series may have taken for it
	// to be judged on its states (a value it never took flags; moves
	// between known values never do) instead of on shifts and steps.
	// Default 8, at most 8; negative disables it.
	Levels int
}

// Heuristic holds the resolved configuration. It is immutable and safe for
// concurrent use.
type Heuristic struct {
	channel map[string]Limit
	series  map[string]Limit
	learn   uint32
	alpha   float64
	aFast   float64
	aShort  float64
	aLong   float64
	aStep   float64
	aLevel  float64 // the level score's background (level.go)
	kLevel  float64
	flag    float64
	quiet   int32
	levels  int // 0 when disabled
}

// New validates cfg and returns a Heuristic.
func New(cfg Config) (*Heuristic, error) {
	h := &Heuristic{channel: map[string]Limit{}, series: maps.Clone(cfg.SeriesLimits)}
	if !cfg.NoPreset {
		maps.Copy(h.channel, PresetLimits())
	}
	// Channels match case-insensitively (x/VOLTAGE is a voltage), so two
	// configured names that differ only in case would be ambiguous.
	configured := map[string]string{}
	for k, l := range cfg.Limits {
		lk := strings.ToLower(k)
		if other, dup := configured[lk]; dup {
			return nil, fmt.Errorf("%w: channel limits %q and %q differ only in case", ErrInvalidConfig, other, k)
		}
		configured[lk] = k
		h.channel[lk] = l
	}
	for _, m := range []map[string]Limit{h.channel, h.series} {
		for k, l := range m {
			if !l.Valid() {
				return nil, fmt.Errorf("%w: limit for %q: %+v", ErrInvalidConfig, k, l)
			}
		}
	}
	learn, hl, flag, quiet, shl, levels := cfg.Learning, cfg.HalfLife, cfg.Flag, cfg.Quiet, cfg.StepHalfLife, cfg.Levels
	if learn == 0 {
		learn = 150
	}
	if hl == 0 {
		hl = 3200
	}
	if flag == 0 {
		flag = 0.55
	}
	if quiet == 0 {
		quiet = 100
	}
	if shl == 0 {
		shl = 32
	}
	if levels == 0 {
		levels = maxLevels
	}
	switch {
	case learn < 0:
		return nil, fmt.Errorf("%w: Learning %d is negative", ErrInvalidConfig, learn)
	case !(hl > 0) || math.IsInf(hl, 0):
		return nil, fmt.Errorf("%w: HalfLife %v must be positive", ErrInvalidConfig, hl)
	case !(flag > 0 && flag <= 1):
		return nil, fmt.Errorf("%w: Flag %v not in (0, 1]", ErrInvalidConfig, flag)
	case !(shl > 0) || math.IsInf(shl, 0):
		return nil, fmt.Errorf("%w: StepHalfLife %v must be positive", ErrInvalidConfig, shl)
	case levels > maxLevels:
		return nil, fmt.Errorf("%w: Levels %d above %d", ErrInvalidConfig, levels, maxLevels)
	}
	h.learn = uint32(learn)
	h.alpha = stats.Alpha(hl)
	h.aFast = stats.Alpha(fastHL)
	h.aShort = stats.Alpha(shortHL)
	h.aLong = stats.Alpha(longHL)
	h.aStep = stats.Alpha(shl)
	h.aLevel, h.kLevel = aLevel, kLevel
	h.flag = flag
	h.quiet = int32(max(quiet, 0))
	h.levels = max(levels, 0)
	return h, nil
}

// NewState returns the state for one series, with its limit resolved once:
// the series id's own limit if configured (exact id), else its channel's
// (matched case-insensitively).
func (h *Heuristic) NewState(seriesID string) State {
	st := State{maxQuiet: h.quiet}
	l, ok := h.series[seriesID]
	if !ok {
		l, ok = h.channel[strings.ToLower(Channel(seriesID))]
	}
	if ok {
		st.limit = l
	}
	return st
}

// Half-lives in samples of the fast mean (compared with the slow one to
// score level shifts), of the short smoothing of that score and of its
// long-run statistics, the same noise filters the model uses. Fixed:
// exposing them would only invite overfitting a fallback.
const (
	fastHL  = 4.0
	shortHL = 2.0
	longHL  = 2000.0
)
