package ceiling

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/astraguard/astraguard/internal/spaceeval"
)

func TestFitARRecoversCoefficients(t *testing.T) {
	// x[t] - 5 = 0.6 (x[t-1] - 5) - 0.3 (x[t-2] - 5) + noise, fitted as AR(4).
	r := rand.New(rand.NewPCG(3, 1))
	x := make([]float64, 20000)
	x[0], x[1] = 5, 5
	for t := 2; t < len(x); t++ {
		x[t] = 5 + 0.6*(x[t-1]-5) - 0.3*(x[t-2]-5) + 0.1*r.NormFloat64()
	}
	mu, coef := FitAR(x, 4, 0)
	want := []float64{0.6, -0.3, 0, 0}
	if math.Abs(mu-5) > 0.01 {
		t.Errorf("mean %v, want 5", mu)
	}
	for i, w := range want {
		if math.Abs(coef[i]-w) > 0.03 {
			t.Errorf("coef %v, want %v", coef, want)
			break
		}
	}
	// A ridge shrinks the coefficients towards zero.
	_, shrunk := FitAR(x, 4, 1)
	if !(math.Abs(shrunk[0]) < 0.5*math.Abs(coef[0])) {
		t.Errorf("ridge 1: coef %v, want the first well under %v", shrunk, coef[0])
	}
	// Too short to fit: zero coefficients, the forecast is the mean.
	if _, c := FitAR(x[:4], 4, 0); c[0] != 0 {
		t.Errorf("4 rows for AR(4): coef %v, want zeros", c)
	}
}

func TestKNNContinuesPeriod(t *testing.T) {
	train := make([]float64, 400)
	for i := range train {
		train[i] = float64(i%20) / 20
	}
	f := KNN{W: 10, K: 3}.Fit(train)
	past := append([]float64(nil), train[:33]...)
	if got := f(past); got != train[33] {
		t.Fatalf("forecast %v, want %v (the period's next value)", got, train[33])
	}
}

// TestStudyFindsShift runs the whole study on one synthetic channel: a
// sine whose test split steps up for 300 rows, outside anything the train
// split shows. kNN on lag windows (fitted on the train split) keeps
// forecasting the old level, and the step is the only sequence found. (An
// AR forecast follows the new level after a few rows: its errors are two
// short spikes, which the smoothing flattens below telemanom's floor.)
func TestStudyFindsShift(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 1))
	const nTrain, nTest = 3000, 6000
	x := make([]float64, nTrain+nTest)
	for i := range x {
		x[i] = 0.5*math.Sin(float64(i)/30) + 0.01*r.NormFloat64()
		if i >= nTrain+4000 && i < nTrain+4300 {
			x[i] += 0.4
		}
	}
	es := []spaceeval.Entry{{Series: "S/x", Spacecraft: "S", NTrain: nTrain, NTest: nTest,
		Sequences: [][2]int{{4000, 4299}}, Classes: []string{spaceeval.Contextual}}}
	rows, err := Study(es, map[string][]float64{"S/x": x}, []Predictor{KNN{W: 10, K: 5}, AR{P: 10, Ridge: 1e-3}}, []Params{Telemanom()}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	if c := rows[0].Result.Total; c != (spaceeval.Counts{TP: 1}) {
		t.Fatalf("kNN: counts %+v, want the step found and nothing else", c)
	}
	if c := rows[1].Result.Total; c != (spaceeval.Counts{FN: 1}) {
		t.Fatalf("AR: counts %+v, want nothing found", c)
	}
	if _, err := Study(es, map[string][]float64{"S/x": x[:100]}, []Predictor{Persistence{}}, []Params{Telemanom()}, []int{0}); err == nil {
		t.Fatal("a channel shorter than its split: no error")
	}
}
