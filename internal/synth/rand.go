package synth

import "math"

// Uniform returns the next draw, uniform on (0, 1); it shares the stream
// with Next.
func (g *Gauss) Uniform() float64 { return g.uniform() }

// Student returns a Student-t draw with 3 degrees of freedom scaled to unit
// variance (a t(3) has variance 3): heavy-tailed noise.
func (g *Gauss) Student() float64 {
	z := g.Next()
	chi := 0.0
	for range 3 {
		x := g.Next()
		chi += x * x
	}
	return z / math.Sqrt(chi/3) / math.Sqrt(3)
}

// Laplace returns a Laplace draw with unit variance (scale 1/sqrt(2)).
func (g *Gauss) Laplace() float64 {
	u := g.uniform() - 0.5
	b := 1 / math.Sqrt2
	if u < 0 {
		return b * math.Log(1+2*u)
	}
	return -b * math.Log(1-2*u)
}

// between returns a uniform draw on [lo, hi).
func (g *Gauss) between(lo, hi float64) float64 { return lo + (hi-lo)*g.uniform() }

// sign returns -1 or +1 with equal chance.
func (g *Gauss) sign() float64 {
	if g.uniform() < 0.5 {
		return -1
	}
	return 1
}
