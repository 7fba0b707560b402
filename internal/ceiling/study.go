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

// Errors fits pr on train and returns its absolute errors on the test rows
// from ls (telemanom's l_s: its first target; the rows before are its
// input) to Horizon rows before the end, each row forecast from the test
// rows before it. None when the test split is shorter.
func Errors(pr Predictor, train, test []float64, ls int) ([]float64, error) {
	if pr.Lags() > ls {
		return nil, fmt.Errorf("%v: %d lags, more than l_s %d", pr, pr.Lags(), ls)
	}
	if len(test)-Horizon <= ls {
		return nil, nil
	}
	f := pr.Fit(train)
	e := make([]float64, 0, len(test)-Horizon-ls)
	for t := ls; t < len(test)-Horizon; t++ {
		d := math.Abs(f(test[:t]) - test[t])
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("%v: forecast of test row %d is not finite", pr, t)
		}
		e = append(e, d)
	}
	return e, nil
}

// Flags thresholds the errors e that Errors made on test (with ls p.LS):
// smoothed (Smooth), thresholded (Detect), the rows of the anomalous
// sequences flagged; one flag per test row.
func (p Params) Flags(e, test []float64) []bool {
	flags := make([]bool, len(test))
	if len(e) == 0 {
		return flags
	}
	for _, s := range p.Detect(p.Smooth(e), test[p.LS:p.LS+len(e)]) {
		for i := s[0]; i <= s[1]; i++ {
			flags[p.LS+i] = true
		}
	}
	return flags
}

// Row is one predictor's result under one thresholding variant at one
// scoring buffer: pooled, and the counts of each label row of the study's
// entries, in their order.
type Row struct {
	Predictor string
	Variant   int // index into the study's variants
	Buffer    int
	Result    spaceeval.Result
	Entries   []spaceeval.Counts
}

// Study runs every predictor on every channel of es (values[series]: its
// train rows, then its test rows), thresholds its errors with every
// variant (all with the first variant's LS), and scores the flags with
// telemanom's protocol at each buffer (rows added either side of each
// predicted sequence by the scorer): one Row per predictor, variant and
// buffer, in that order. It uses two goroutines.
func Study(es []spaceeval.Entry, values map[string][]float64, preds []Predictor, variants []Params, buffers []int) ([]Row, error) {
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
	if len(variants) == 0 {
		return nil, fmt.Errorf("no thresholding variants")
	}
	ls := variants[0].LS
	// flags[k][v][series] are predictor k's test flags under variant v.
	flags := make([][]map[string][]bool, len(preds))
	for k := range flags {
		flags[k] = make([]map[string][]bool, len(variants))
		for v := range variants {
			flags[k][v] = map[string][]bool{}
		}
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
				train, test := values[s][:split[s]], values[s][split[s]:]
				for k, pr := range preds {
					e, err := Errors(pr, train, test, ls)
					mu.Lock()
					if err != nil && first == nil {
						first = fmt.Errorf("%s: %w", s, err)
					}
					mu.Unlock()
					for v, p := range variants {
						p.LS = ls
						f := p.Flags(e, test)
						mu.Lock()
						flags[k][v][s] = f
						mu.Unlock()
					}
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
		for v := range variants {
			for _, b := range buffers {
				row := Row{Predictor: pr.String(), Variant: v, Buffer: b}
				row.Result.Add(spaceeval.Result{})
				for _, e := range es {
					r := spaceeval.ScoreEntry(e, flags[k][v][e.Series], b)
					row.Result.Add(r)
					row.Entries = append(row.Entries, r.Total)
				}
				out = append(out, row)
			}
		}
	}
	return out, nil
}
