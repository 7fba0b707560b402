package ceiling

import (
	"fmt"
	"testing"
)

type fixture struct{ e, y []float64 }

// fixtureCases are synthetic absolute errors: noise with bumps (one
// spanning several batches, which Stale cuts short) and dips, on a long
// channel (many windows), a mid-length one (the first 250 errors ignored)
// and a short one (a single window, nothing ignored, a dip alone).
func fixtureCases() map[string]fixture {
	mk := func(n int, level float64, seed uint64, edits ...[3]float64) fixture {
		e, y := noise(n, level, 0.02, seed)
		for _, d := range edits {
			for i := int(d[0]); i < int(d[1]); i++ {
				if d[2] < 0 {
					e[i] = -d[2]
				} else {
					e[i] += d[2]
				}
			}
		}
		return fixture{e, y}
	}
	return map[string]fixture{
		"long":  mk(5740, 0.3, 11, [3]float64{1000, 1060, 0.5}, [3]float64{3000, 3900, 0.3}, [3]float64{4500, 4800, -0.01}, [3]float64{5200, 5215, 0.15}),
		"mid":   mk(2140, 0.3, 12, [3]float64{400, 450, 0.5}, [3]float64{1300, 1600, -0.005}),
		"short": mk(1791, 0.3, 13, [3]float64{1000, 1150, -0.005}),
	}
}

// telemanomSeqs are the sequences telemanom's errors.py (2018; with the
// later fix and, for Stale, without it) gives on the fixtures' smoothed
// errors: computed once by running its process_errors under numpy on the
// values Smooth returns (the code is not in this repository).
var telemanomSeqs = map[string]map[bool]string{
	"long":  {false: "[[918 1203] [3010 3359]]", true: "[[918 1203] [3010 3079]]"},
	"mid":   {false: "[[336 559]]", true: "[[336 559]]"},
	"short": {false: "[[954 1268]]", true: "[[954 1268]]"},
}

func TestMatchesTelemanom(t *testing.T) {
	for name, c := range fixtureCases() {
		for stale, want := range telemanomSeqs[name] {
			p := Telemanom()
			p.Stale = stale
			if got := fmt.Sprint(p.Detect(p.Smooth(c.e), c.y)); got != want {
				t.Errorf("%s, stale %v: sequences %s, telemanom's %s", name, stale, got, want)
			}
		}
	}
}
