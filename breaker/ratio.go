package breaker

import (
	"math/bits"
	"strconv"
	"strings"
)

// ratio is a configured ratio held as the decimal fraction num/den it was
// written as (0.56 is 56/100), so "failures/calls reaches the ratio" is
// decided in integers. Comparing failures >= ratio*calls in float64 misses
// exact hits: 0.56*25 is 14.000000000000002, so 14 failures of 25 did not
// trip (141 such misses for windows up to 1000 calls and two-digit ratios).
type ratio struct{ num, den uint64 }

// maxRatioDigits keeps den = 10^digits within uint64.
const maxRatioDigits = 19

// newRatio takes the shortest decimal that reads back as r, the one a user
// wrote in a flag or a file. r is in (0, 1] (validated by normalize).
func newRatio(r float64) ratio {
	if r >= 1 {
		return ratio{1, 1}
	}
	s := strconv.FormatFloat(r, 'f', -1, 64) // "0.56"
	frac := strings.TrimPrefix(s, "0.")
	if len(frac) > maxRatioDigits {
		frac = frac[:maxRatioDigits] // below 1e-19 of difference: not a ratio anyone configures
	}
	num, err := strconv.ParseUint(frac, 10, 64)
	if err != nil || num == 0 {
		return ratio{1, pow10(len(frac))} // the smallest positive ratio at that precision
	}
	return ratio{num, pow10(len(frac))}
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// reached reports whether n/calls >= num/den, that is n*den >= num*calls,
// with 128-bit products so no count overflows.
func (q ratio) reached(n, calls int) bool {
	if calls <= 0 {
		return false
	}
	hi1, lo1 := bits.Mul64(uint64(max(n, 0)), q.den)
	hi2, lo2 := bits.Mul64(uint64(calls), q.num)
	return hi1 > hi2 || hi1 == hi2 && lo1 >= lo2
}
