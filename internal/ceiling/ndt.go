package ceiling

import (
	"cmp"
	"math"
	"slices"
)

// Params are telemanom's thresholding constants (its config.yaml).
type Params struct {
	BatchSize   int     // rows each window advances by and judges (70)
	WindowSize  int     // batches of errors a threshold is chosen on (30)
	Smoothing   float64 // EWMA span as a share of BatchSize*WindowSize (0.05: span 105)
	ErrorBuffer int     // rows either side of an error above the threshold that join its sequence (100)
	P           float64 // minimum relative drop between sequence maxima that keeps a sequence (0.13)
	LS          int     // l_s: the input length; the first LS smoothed errors are flattened to the mean of the first 2*LS (250)
	ZMax        float64 // the largest threshold tried, in deviations (12; thresholds 2.5, 3, ... 11.5)
	// Stale reproduces errors.py of 2018 exactly: when it takes the largest
	// error outside the sequences for pruning, it skips the rows flagged in
	// earlier windows one batch too early (x + (window-1)*batch_size), so a
	// sequence that goes on from the last batch meets its own earlier rows
	// and is often pruned. Its later revision fixed this; false is the fix.
	Stale bool
	// Causal judges every batch once, in the window of the WindowSize
	// batches that ends with it (shorter at the start), so no verdict uses
	// an error more than BatchSize-1 rows after its row; telemanom's first
	// window judges all its rows at once, seeing up to a window of errors
	// ahead, and it flattens the first LS smoothed errors to the mean of
	// the first 2*LS. Causal does not flatten and judges no row before LS.
	Causal bool
}

// Telemanom returns the published constants.
func Telemanom() Params {
	return Params{BatchSize: 70, WindowSize: 30, Smoothing: 0.05, ErrorBuffer: 100, P: 0.13, LS: 250, ZMax: 12}
}

// Smooth is telemanom's get_errors: the EWMA of the absolute errors e with
// span Smoothing*BatchSize*WindowSize (pandas' ewm(span).mean(), adjust
// true: the weighted mean of all errors so far, weights (1-a)^age,
// a = 2/(span+1)), the first LS values then replaced by the mean of the
// first 2*LS (not when Causal). (telemanom skips the replacement for
// channel C-2 only; this has no per-channel exception.)
func (p Params) Smooth(e []float64) []float64 {
	span := math.Floor(float64(p.BatchSize*p.WindowSize) * p.Smoothing)
	a := 2 / (span + 1)
	out := make([]float64, len(e))
	var num, den float64
	for i, x := range e {
		num = x + (1-a)*num
		den = 1 + (1-a)*den
		out[i] = num / den
	}
	if n := min(len(out), 2*p.LS); p.LS > 0 && n > 0 && !p.Causal {
		m := mean(out[:n])
		for i := range min(len(out), p.LS) {
			out[i] = m
		}
	}
	return out
}

// Detect is telemanom's process_errors over smoothed errors es and the
// values y they were made on (same length): windows of WindowSize batches
// (fewer when the errors are short) advance a batch at a time; in each
// (get_anomalies), a threshold is chosen for the errors and for the errors
// flipped about their mean (a dip in the errors), the errors above either
// are widened by ErrorBuffer-1 rows either side (telemanom's
// range(0, error_buffer)), kept only in the window's newest batch (in the
// first window, all past its first rows), and pruned. It returns the
// anomalous sequences as inclusive [start, end] indices of es, single rows
// dropped. It follows telemanom's errors.py as of 2018, with one fix its
// later revision made: the rows flagged before are matched at the window's
// own start, not one batch earlier (unless Stale). With Causal, the windows
// are those spans describes.
func (p Params) Detect(es, y []float64) [][2]int {
	anom := make([]bool, len(es))
	for _, sp := range p.spans(len(es)) {
		lo, hi := sp[0], sp[1]
		w := newWindow(p, es[lo:hi], y[lo:hi])
		shift := lo
		if p.Stale {
			shift -= p.BatchSize
		}
		prior := func(j int) bool { return j+shift >= 0 && anom[j+shift] }
		keep := func(j int) bool { return lo+j >= sp[2] }
		var found []int
		for _, inv := range []bool{false, true} {
			e := w.e
			if inv {
				e = w.inv
			}
			eps := w.mean + w.findZ(e)*w.sd
			idx, nonMax := w.compare(e, eps, keep, prior)
			found = append(found, w.prune(e, idx, nonMax)...)
		}
		for _, j := range found {
			anom[lo+j] = true
		}
	}
	return runs(anom)
}

// ignore is how many of n errors telemanom never flags at the start: 2*LS,
// LS under 2500 errors, none under 1800 (with Causal, at least LS).
func (p Params) ignore(n int) int {
	i := 2 * p.LS
	if n < 2500 {
		i = p.LS
	}
	if n < 1800 {
		i = 0
	}
	if p.Causal {
		i = max(i, p.LS)
	}
	return i
}

// Judged returns the test rows [from, to) that Flags can flag in a test
// split of nTest rows: none of the first LS (the predictor's input), of the
// errors' first ignored rows, or of the last Horizon.
func (p Params) Judged(nTest int) (from, to int) {
	n := nTest - p.LS - Horizon
	if n <= 0 {
		return nTest, nTest
	}
	return p.LS + p.ignore(n), nTest - Horizon
}

// spans returns Detect's windows over n errors as [lo, hi, from]: the
// window is rows lo..hi-1 and it judges rows from..hi-1.
func (p Params) spans(n int) [][3]int {
	ignore := p.ignore(n)
	span := p.WindowSize * p.BatchSize
	var out [][3]int
	if p.Causal {
		for end := p.BatchSize; end-p.BatchSize < n; end += p.BatchSize {
			hi := min(end, n)
			out = append(out, [3]int{max(0, hi-span), hi, max(end-p.BatchSize, ignore)})
		}
		return out
	}
	ws := p.WindowSize
	nw := (n - p.BatchSize*ws) / p.BatchSize // truncated toward zero, as Python's int()
	for nw < 0 {
		ws = max(ws-1, 1)
		nw = (n - p.BatchSize*ws) / p.BatchSize
		if ws == 1 && nw < 0 {
			return nil // fewer errors than a batch (telemanom raises)
		}
	}
	for i := 0; i <= nw; i++ {
		lo := i * p.BatchSize
		hi := min(lo+span, n) // the configured WindowSize, not the shortened one, as telemanom
		if i == nw {
			hi = n
		}
		from := hi - p.BatchSize // the newest batch
		if i == 0 {
			from = ignore // the first window judges all its rows past the first
		}
		out = append(out, [3]int{lo, hi, from})
	}
	return out
}

// window is one window's smoothed errors, their flip about the mean, and
// the statistics of the values.
type window struct {
	p        Params
	e, inv   []float64
	mean, sd float64
	sdY      float64 // deviation of the values
	iqr      float64 // 95th minus 5th percentile of the values
}

func newWindow(p Params, e, y []float64) *window {
	w := &window{p: p, e: e, mean: mean(e), sd: std(e), sdY: std(y)}
	w.inv = make([]float64, len(e))
	for i, x := range e {
		w.inv[i] = 2*w.mean - x
	}
	w.iqr = percentile(y, 95) - percentile(y, 5)
	return w
}

// findZ is find_epsilon: the z in 2.5, 3, ... below ZMax whose threshold
// mean + z*sd best trades the share by which the errors' mean and deviation
// fall when the errors above it are removed against the number of
// sequences (squared) and rows it flags (each error above it widened by
// ErrorBuffer-1): (dmean/mean + dsd/sd) / (seqs^2 + rows), at least 0,
// with at most 5 sequences and under half the rows flagged. ZMax when no z
// qualifies.
func (w *window) findZ(e []float64) float64 {
	best, bestZ := 0.0, w.p.ZMax
	b := w.p.ErrorBuffer - 1
	for z := 2.5; z < w.p.ZMax; z += 0.5 {
		eps := w.mean + z*w.sd
		// The rows flagged: the errors above eps widened by b, merged into
		// runs as they come (no slices: this is the study's inner loop).
		rows, seqs, lo, hi := 0, 0, -1, -2
		closeRun := func() {
			if hi >= lo {
				rows += hi - lo + 1
				if hi > lo {
					seqs++
				}
			}
		}
		var sum float64
		var n int
		for i, x := range e {
			if x < eps {
				sum += x
				n++
			}
			if !(x > eps) {
				continue
			}
			a, c := max(0, i-b), min(len(e)-1, i+b)
			if a <= hi+1 {
				hi = max(hi, c)
				continue
			}
			closeRun()
			lo, hi = a, c
		}
		closeRun()
		if rows == 0 {
			continue
		}
		m, ss := sum/float64(n), 0.0
		for _, x := range e {
			if x < eps {
				ss += (x - m) * (x - m)
			}
		}
		sd := math.Sqrt(ss / float64(n))
		s := ((w.mean-m)/w.mean + (w.sd-sd)/w.sd) / float64(seqs*seqs+rows)
		if s >= best && seqs <= 5 && float64(rows) < 0.5*float64(len(e)) {
			best, bestZ = s, z
		}
	}
	return bestZ
}

// compare is compare_to_epsilon: the rows above eps (and above 5 % of the
// values' 5-95 percentile range), widened by ErrorBuffer-1, that keep
// accepts, and the largest error of the window outside them and outside
// the rows flagged before (prior), 0 if none is positive. Nothing when the
// errors are small against the values.
func (w *window) compare(e []float64, eps float64, keep, prior func(int) bool) (idx []int, nonMax float64) {
	top := slices.Max(e)
	if !(w.sd > 0.05*w.sdY || top > 0.05*w.iqr) || !(top > 0.05) {
		return nil, 0
	}
	cross := make([]bool, len(e))
	for i, x := range e {
		cross[i] = x > eps && x > 0.05*w.iqr
	}
	kept := make([]bool, len(e))
	for i, f := range widen(cross, w.p.ErrorBuffer-1) {
		if f && keep(i) {
			idx = append(idx, i)
			kept[i] = true
		}
	}
	for i, x := range e {
		if !kept[i] && !prior(i) && x > nonMax {
			nonMax = x
		}
	}
	return idx, nonMax
}

// prune is prune_anoms: the sequences of idx ranked by their largest error
// (over each sequence's rows but its last, as telemanom's slice), followed
// by nonMax if positive; walking down the ranks, a sequence whose maximum is
// less than P (relative) above the next is removed unless a larger drop
// follows it. It returns the rows of idx in a kept sequence (idx itself when
// it forms no sequence).
func (w *window) prune(e []float64, idx []int, nonMax float64) []int {
	flag := make([]bool, len(e))
	for _, i := range idx {
		flag[i] = true
	}
	seqs := runs(flag)
	if len(seqs) == 0 {
		return idx
	}
	maxes := make([]float64, len(seqs))
	for k, s := range seqs {
		maxes[k] = slices.Max(e[s[0]:s[1]])
	}
	sorted := slices.Clone(maxes)
	slices.SortFunc(sorted, func(a, b float64) int { return cmp.Compare(b, a) })
	if nonMax > 0 {
		sorted = append(sorted, nonMax)
	}
	drop := map[int]bool{}
	for i := 0; i+1 < len(sorted); i++ {
		if (sorted[i]-sorted[i+1])/sorted[i] < w.p.P {
			drop[slices.Index(maxes, sorted[i])] = true
		} else {
			clear(drop)
		}
	}
	var out []int
	for _, i := range idx {
		for k, s := range seqs {
			if !drop[k] && s[0] <= i && i <= s[1] {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// widen returns cross with every flagged row widened by b rows either side
// (in one pass: each row is set once).
func widen(cross []bool, b int) []bool {
	out := make([]bool, len(cross))
	next := 0 // the first row not yet set
	for i, c := range cross {
		if !c {
			continue
		}
		for j := max(next, i-b); j <= min(len(out)-1, i+b); j++ {
			out[j] = true
		}
		next = max(next, i+b+1)
	}
	return out
}

// runs returns the runs of consecutive flagged rows as inclusive [start,
// end], single rows dropped (telemanom's E_seq keeps the groups whose first
// and last index differ).
func runs(flag []bool) [][2]int {
	var out [][2]int
	for i := 0; i < len(flag); i++ {
		if !flag[i] {
			continue
		}
		j := i
		for j+1 < len(flag) && flag[j+1] {
			j++
		}
		if j > i {
			out = append(out, [2]int{i, j})
		}
		i = j
	}
	return out
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// std is the population deviation (numpy's default).
func std(x []float64) float64 {
	m := mean(x)
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)))
}

// percentile is numpy's default (linear interpolation between ranks).
func percentile(x []float64, q float64) float64 {
	s := slices.Sorted(slices.Values(x))
	r := q / 100 * float64(len(s)-1)
	lo := int(math.Floor(r))
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (r-float64(lo))*(s[lo+1]-s[lo])
}
