package ceiling

import (
	"fmt"
	"math"
	"sync"

	"github.com/astraguard/astraguard/internal/spaceeval"
)

// Horizon is telemanom's n_predictions: its last 10 test rows have no
// target, so they are never judged.
const Horizon = 10

// Flags fits pr on train and returns the flags of the test rows: each row
// from p.LS on (telemanom's first target; the rows before are its input) to
// Horizon rows before the end is forecast from the test rows before it,
// the absolute errors are smoothed and thresholded (Smooth, Detect), and
// the rows of the anomalous sequences are flagged.
func (p Params) Flags(pr Predictor, train, test []float64) ([]bool, error) {
	if pr.Lags() > p.LS {
		return nil, fmt.Errorf("%v: %d lags, more than l_s %d", pr, pr.Lags(), p.LS)
	}
	flags := make([]bool, len(test))
	if len(test)-Horizon <= p.LS {
		return flags, nil
	}
	f := pr.Fit(train)
	e := make([]float64, 0, len(test)-Horizon-p.LS)
	for t := p.LS; t < len(test)-Horizon; t++ {
		d := math.Abs(f(test[:t]) - test[t])
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("%v: forecast of test row %d is not finite", pr, t)
		}
		e = append(e, d)
	}
	y := test[p.LS : len(test)-Horizon]
	for _, s := range p.Detect(p.Smooth(e), y) {
		for i := s[0]; i <= s[1]; i++ {
			flags[p.LS+i] = true
		}
	}
	return flags, nil
}

// Row is one predictor's pooled result at one scoring buffer.
type Row struct {
	Predictor string
	Buffer    int
	Result    spaceeval.Result
}

// Study runs every predictor on every channel of es (values[series]: its
// train rows, then its test rows) and scores the flags with telemanom's
// protocol at each buffer (rows added either side of each predicted
// sequence by the scorer), one Row per predictor and buffer in that order.
// It uses two goroutines.
func (p Params) Study(es []spaceeval.Entry, values map[string][]float64, preds []Predictor, buffers []int) ([]Row, error) {
	split := map[string]int{}
	for _, e := range es {
		x, ok := values[e.Series]
		if !ok {
			return nil, fmt.Errorf("no values for %s", e.Series)
		}
		if len(x) != e.NTrain+e.NTest {
			return nil, fmt.Errorf("%s: %d rows, want n_train %d + n_test %d", e.Series, len(x), e.NTrain, e.NTest)
		}
		split[e.Series] = e.NTrain
	}
	// flags[k][series] are predictor k's test flags.
	flags := make([]map[string][]bool, len(preds))
	for k := range flags {
		flags[k] = map[string][]bool{}
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	work := make(chan string)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				x, n := values[s], split[s]
				for k, pr := range preds {
					f, err := p.Flags(pr, x[:n], x[n:])
					mu.Lock()
					if err != nil && first == nil {
						first = fmt.Errorf("%s: %w", s, err)
					}
					flags[k][s] = f
					mu.Unlock()
				}
			}
		}()
	}
	for _, s := range spaceeval.SeriesOf(es) {
		work <- s
	}
	close(work)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	var out []Row
	for k, pr := range preds {
		for _, b := range buffers {
			r, err := spaceeval.Score(es, flags[k], b)
			if err != nil {
				return nil, err
			}
			out = append(out, Row{Predictor: pr.String(), Buffer: b, Result: r})
		}
	}
	return out, nil
}
