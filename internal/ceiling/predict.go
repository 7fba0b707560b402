package ceiling

import (
	"fmt"
	"math"
)

// A Predictor is fitted on a channel's train split and returns the
// one-step forecast: the next value given the rows before it (at least
// Lags of them).
type Predictor interface {
	Fit(train []float64) func(past []float64) float64
	Lags() int
	String() string
}

// Persistence forecasts the last value.
type Persistence struct{}

func (Persistence) Fit([]float64) func([]float64) float64 {
	return func(past []float64) float64 { return past[len(past)-1] }
}
func (Persistence) Lags() int      { return 1 }
func (Persistence) String() string { return "persistence" }

// AR is a least-squares autoregression on the last P values about the
// train split's mean, with a ridge penalty of Ridge per fitted row on
// every coefficient (Ridge 0: plain least squares).
type AR struct {
	P     int
	Ridge float64
}

func (a AR) Lags() int      { return a.P }
func (a AR) String() string { return fmt.Sprintf("AR(%d) ridge %g", a.P, a.Ridge) }

func (a AR) Fit(train []float64) func([]float64) float64 {
	mu, coef := FitAR(train, a.P, a.Ridge)
	return func(past []float64) float64 {
		f := mu
		for i, c := range coef {
			f += c * (past[len(past)-1-i] - mu)
		}
		return f
	}
}

// FitAR fits x[t] - mu = sum_i coef[i] (x[t-1-i] - mu), mu the mean of x,
// by ridge regression over t = p .. len(x)-1: the normal equations with
// ridge*rows added to the diagonal, solved by Cholesky. With no rows to fit
// (len(x) <= p) the coefficients are zero.
func FitAR(x []float64, p int, ridge float64) (mu float64, coef []float64) {
	mu = mean(x)
	coef = make([]float64, p)
	rows := len(x) - p
	if rows <= 0 {
		return mu, coef
	}
	g := make([]float64, p*p) // the Gram matrix, row-major
	b := make([]float64, p)
	z := make([]float64, p)
	for t := p; t < len(x); t++ {
		for i := range z {
			z[i] = x[t-1-i] - mu
		}
		y := x[t] - mu
		for i, zi := range z {
			b[i] += zi * y
			row := g[i*p:]
			for j := 0; j <= i; j++ {
				row[j] += zi * z[j]
			}
		}
	}
	for i := range p {
		g[i*p+i] += ridge * float64(rows)
		for j := 0; j < i; j++ {
			g[j*p+i] = g[i*p+j]
		}
	}
	if !cholSolve(g, b, p) {
		return mu, make([]float64, p)
	}
	return mu, b
}

// cholSolve solves g x = b in place (x in b) for a symmetric positive
// definite g (p by p, row-major; overwritten by its Cholesky factor). False
// when g is not positive definite.
func cholSolve(g, b []float64, p int) bool {
	for j := range p {
		d := g[j*p+j]
		for k := range j {
			d -= g[j*p+k] * g[j*p+k]
		}
		if !(d > 0) {
			return false
		}
		d = math.Sqrt(d)
		g[j*p+j] = d
		for i := j + 1; i < p; i++ {
			s := g[i*p+j]
			for k := range j {
				s -= g[i*p+k] * g[j*p+k]
			}
			g[i*p+j] = s / d
		}
	}
	for i := range p { // L y = b
		s := b[i]
		for k := range i {
			s -= g[i*p+k] * b[k]
		}
		b[i] = s / g[i*p+i]
	}
	for i := p - 1; i >= 0; i-- { // L' x = y
		s := b[i]
		for k := i + 1; k < p; k++ {
			s -= g[k*p+i] * b[k]
		}
		b[i] = s / g[i*p+i]
	}
	return true
}

// KNN forecasts the mean of the values that followed the K train-split
// windows of the last W values nearest (Euclidean) to the latest W.
type KNN struct{ W, K int }

func (k KNN) Lags() int      { return k.W }
func (k KNN) String() string { return fmt.Sprintf("kNN W=%d K=%d", k.W, k.K) }

func (k KNN) Fit(train []float64) func([]float64) float64 {
	return func(past []float64) float64 {
		q := past[len(past)-k.W:]
		// best holds the K smallest distances so far (unsorted) and the
		// value after each window.
		dist := make([]float64, 0, k.K)
		next := make([]float64, 0, k.K)
		worst := math.Inf(1)
		for t := k.W; t < len(train); t++ {
			w := train[t-k.W : t]
			d := 0.0
			for i, v := range w {
				d += (v - q[i]) * (v - q[i])
				if d >= worst && len(dist) == k.K {
					break
				}
			}
			if len(dist) < k.K {
				dist, next = append(dist, d), append(next, train[t])
			} else if d < worst {
				at := argmax(dist)
				dist[at], next[at] = d, train[t]
			} else {
				continue
			}
			if len(dist) == k.K {
				worst = dist[argmax(dist)]
			}
		}
		if len(next) == 0 {
			return q[len(q)-1]
		}
		return mean(next)
	}
}

func argmax(x []float64) int {
	at := 0
	for i, v := range x {
		if v > x[at] {
			at = i
		}
	}
	return at
}
