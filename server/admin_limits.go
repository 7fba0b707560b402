package server

import (
	"cmp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of operator input on BreakerAdmin (README "Limits").
const (
	// maxAdminString bounds every admin string (breaker name, reason) in
	// bytes. A reason is copied into the breaker's view, every watcher's
	// transition and the audit log, so its size is multiplied by them.
	maxAdminString = 256
	// maxWatchNames bounds the names one WatchBreakers call may list.
	maxWatchNames = 64
)

// LimitWatchStreams is the limit a WatchBreakers stream over
// Config.MaxWatchStreams or MaxWatchStreamsPerClient breaks.
const LimitWatchStreams = "open WatchBreakers streams"

// checkAdminString is the one check of every string an admin request
// carries: valid UTF-8, at most maxAdminString bytes, printable characters
// and spaces only (no line breaks or control characters that could forge
// audit log lines), and, when required, not empty or only spaces. The
// message quotes the field, never the value, which may be hostile.
func checkAdminString(field, s string, required bool) error {
	switch {
	case !utf8.ValidString(s):
		return invalidArgf("%s is not valid UTF-8", field)
	case len(s) > maxAdminString:
		return invalidArgf("%s is %d bytes, longer than %d", field, len(s), maxAdminString)
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0:
		return invalidArgf("%s has a control or non-printable character", field)
	case required && strings.TrimSpace(s) == "":
		return invalidArgf("%s is required", field)
	}
	return nil
}

// newWatchSlots bounds the Hub's watchers (WatchBreakers streams and the
// breaker page's event streams) in total and per client: each holds a
// goroutine, a buffered channel and a copy of every transition. 0 takes
// the default.
func newWatchSlots(max, per int) *streamSlots {
	return newStreamSlots(LimitWatchStreams,
		cmp.Or(max, defaults.MaxWatchStreams), cmp.Or(per, defaults.MaxWatchStreamsPerClient))
}
