package detector

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestGlobMatchAgreesWithRegexp: globMatch decides as the regexp the glob
// stands for (GlobRegexp, case-insensitive, anchored), on random globs and
// ids over an alphabet with separators, case pairs, a newline and runes
// whose simple folds differ in width (K and the Kelvin sign, s and ſ).
func TestGlobMatchAgreesWithRegexp(t *testing.T) {
	alphabet := []rune{'a', 'A', 'b', 'k', 'K', '\u212a', 's', '\u017f', '/', '.', '\n', '-', 'é', 'É'}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		glob, id := randomWord(rng, alphabet, rng.IntN(6), true), randomWord(rng, alphabet, rng.IntN(8), false)
		re := regexp.MustCompile("(?i)^(?:" + GlobRegexp(glob) + ")$")
		if got, want := globMatch(glob, id), re.MatchString(id); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, want %v (the regexp's)", glob, id, got, want)
		}
	}
}

func BenchmarkPoliciesMatchDefault(b *testing.B) {
	ps, err := NewPolicies(DefaultPolicies())
	if err != nil {
		b.Fatal(err)
	}
	ids := []string{"sat1/voltage", "sat12/ch-0007", "sat3/TEMPERATURE", "bench/series-000123"}
	for i := 0; b.Loop(); i++ {
		ps.Match(ids[i&3])
	}
}

// randomWord is n runes drawn from alphabet, with '*' and '?' among them
// when wild, for the tests that check glob matching against regexps.
func randomWord(rng *rand.Rand, alphabet []rune, n int, wild bool) string {
	var b strings.Builder
	for range n {
		switch r := rng.IntN(len(alphabet) + 4); {
		case wild && r == len(alphabet):
			b.WriteRune('*')
		case wild && r == len(alphabet)+1:
			b.WriteRune('?')
		default:
			b.WriteRune(alphabet[r%len(alphabet)])
		}
	}
	return b.String()
}
