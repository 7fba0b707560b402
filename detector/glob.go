package detector

import (
	"unicode"
	"unicode/utf8"
)

// globMatch reports whether id matches glob as the glob's regular
// expression (GlobRegexp under (?i), anchored) would: '*' any run and '?'
// one rune, neither crossing a newline, the rest literal under Unicode
// simple case folding. It is that regexp without its cost: matching runs on
// every group of every request, where a regexp took about 0.6 µs a policy.
// The star backtracking is the classic linear-memory glob matcher.
func globMatch(glob, id string) bool {
	gx, ix := 0, 0
	nextGx, nextIx := -1, -1 // where to resume after the last '*', or -1
	for gx < len(glob) || ix < len(id) {
		if gx < len(glob) {
			g, gw := utf8.DecodeRuneInString(glob[gx:])
			r, rw := utf8.DecodeRuneInString(id[ix:])
			switch {
			case g == '*':
				nextGx, nextIx = gx, -1
				if ix < len(id) && r != '\n' {
					nextIx = ix + rw
				}
				gx += gw
				continue
			case ix < len(id) && (g == '?' && r != '\n' || g != '?' && foldEqual(g, r)):
				gx, ix = gx+gw, ix+rw
				continue
			}
		}
		if nextIx < 0 {
			return false
		}
		gx, ix = nextGx, nextIx
	}
	return true
}

// foldEqual reports whether a and b are equal under simple case folding,
// as (?i) compares them.
func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		// Two ASCII letters fold together only as upper and lower case.
		return 'A' <= a && a <= 'Z' && a+'a'-'A' == b || 'A' <= b && b <= 'Z' && b+'a'-'A' == a
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}
