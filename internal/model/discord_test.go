package model

import (
	"math"
	"testing"

	"github.com/astraguard/astraguard/internal/stats"
)

// discordRun feeds the discord mechanism alone n samples of f, judging
// once warm (after 300 samples, as the detector would), and returns the
// indexes of the samples it flagged.
func discordRun(s *discord, from, n int, f func(i int) float64) []int {
	var hits []int
	a, aMax := stats.Alpha(8), stats.Alpha(10000)
	for i := from; i < from+n; i++ {
		if s.update(f(i), discordBlockDefault, a, aMax, discordPruneDefault, i >= 300) > 0 {
			hits = append(hits, i)
		}
	}
	return hits
}

// TestDiscordFlagsANewShapeOnce (issue 18 item 2): a rhythm the codebook
// has learned raises no flag; a change of shape that stays inside the
// normal range (a wave of half the amplitude around a raised level) is
// flagged within a few windows; once learned, the new shape is normal.
func TestDiscordFlagsANewShapeOnce(t *testing.T) {
	var n noise
	var s discord
	wave := func(i int) float64 { return math.Sin(2*math.Pi*float64(i)/64) + 0.05*n.next() }
	other := func(i int) float64 { return 0.4 + 0.4*math.Sin(2*math.Pi*float64(i)/64) + 0.05*n.next() }
	discordRun(&s, 0, 20000, wave)
	if hits := discordRun(&s, 20000, 20000, wave); len(hits) > 0 {
		t.Fatalf("the learned wave flagged at samples %v", hits)
	}
	hits := discordRun(&s, 40000, 2000, other)
	if len(hits) == 0 || hits[0] > 40000+16*discordBlockDefault*discordW {
		t.Fatalf("the new shape flagged at %v, want within 16 windows of sample 40000", hits)
	}
	if hits := discordRun(&s, 42000, 4000, other); len(hits) > 0 {
		t.Errorf("the new shape, learned, flagged again at %v", hits)
	}
	if s.k < 2 || s.k > discordK {
		t.Errorf("%d prototypes, want 2..%d", s.k, discordK)
	}
}

// TestDiscordOffByConfig: a negative DiscordBlock turns the mechanism
// off (its state stays zero) and changes the signature; a block beyond
// discordBlockMax is refused.
func TestDiscordOffByConfig(t *testing.T) {
	off := mustDetector(t, Config{DiscordBlock: -1})
	on := mustDetector(t, Config{})
	var n noise
	for i := range 2000 {
		v := math.Sin(float64(i)/10) + 0.1*n.next()
		off.Update(int64(i)*60e9, v)
		on.Update(int64(i)*60e9, v)
	}
	if off.dis != (discord{}) {
		t.Error("DiscordBlock -1 still learned windows")
	}
	if on.dis.k == 0 {
		t.Error("the default detector learned no prototype window")
	}
	a, _ := Config{DiscordBlock: -1}.Signature()
	b, _ := Config{}.Signature()
	if a == b {
		t.Error("turning the discord off left the signature unchanged")
	}
	for _, c := range []Config{{DiscordBlock: discordBlockMax + 1}, {DiscordPrune: -1}, {DiscordPrune: math.Inf(1)}} {
		if _, err := NewDetector(c); err == nil {
			t.Errorf("NewDetector(%+v) accepted", c)
		}
	}
}
