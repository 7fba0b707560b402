// Command spacereplay replays the spacecraft development channels
// (../shared/spacecraft: SMAP/MSL, train split then test split) through the
// model in-process, restamped at one or more cadences, and scores the
// model's own flags with telemanom's protocol (the same counting as the
// folder's score.py). With -out it also writes verdict CSVs in agctl
// replay's column layout, so score.py can check the numbers. With -grid it
// cross-validates a list of configurations grouped by channel: each
// channel is scored with the configuration that has the best F1 on the
// other channels. With -ceiling it runs the offline ceiling study instead
// (internal/ceiling: telemanom's thresholding on per-channel predictors
// fitted on each train split). A development tool, not part of the service.
//
//	go run ./cmd/spacereplay -cadence 60s,300s
//	go run ./cmd/spacereplay -ceiling
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/astraguard/astraguard/internal/ceiling"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/nabeval"
	"github.com/astraguard/astraguard/internal/spaceeval"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "spacereplay:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("spacereplay", flag.ContinueOnError)
	dir := fs.String("data", "../shared/spacecraft", "spacecraft folder (meta.json, SMAP/, MSL/)")
	cads := fs.String("cadence", "60s,300s", "comma-separated cadences")
	cfgJSON := fs.String("config", "", "model Config as JSON")
	grid := fs.String("grid", "", "JSON list of model Configs to cross-validate, grouped by channel")
	out := fs.String("out", "", "write verdict CSVs under OUT/<cadence>/")
	detail := fs.Bool("detail", false, "per-channel counts and the mechanism of each false positive's first flag (with -ceiling: per label row counts)")
	ceil := fs.Bool("ceiling", false, "instead of the model: telemanom's thresholding on per-channel predictors fitted offline on each train split (internal/ceiling)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Every cadence is checked before anything is read: a negative one
	// replayed the channels backwards in time without a word.
	var cadList []time.Duration
	for _, cs := range strings.Split(*cads, ",") {
		cad, err := time.ParseDuration(cs)
		if err != nil {
			return err
		}
		if err := spaceeval.CheckCadence(cad); err != nil {
			return fmt.Errorf("-cadence: %w", err)
		}
		cadList = append(cadList, cad)
	}
	metas, err := spaceeval.LoadMeta(filepath.Join(*dir, "meta.json"))
	if err != nil {
		return err
	}
	files := map[string]*nabeval.File{}
	for _, m := range metas {
		if files[m.Series] == nil {
			f, err := nabeval.LoadFile(filepath.Join(*dir, m.Series+".csv"))
			if err != nil {
				return err
			}
			files[m.Series] = f
		}
	}
	if *ceil {
		return ceilingTable(w, metas, files, *detail)
	}
	var cfgs []model.Config
	if *grid != "" {
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(*grid), &raw); err != nil {
			return fmt.Errorf("parse -grid: %w", err)
		}
		for _, r := range raw {
			var c model.Config
			if err := json.Unmarshal(r, &c); err != nil {
				return err
			}
			cfgs = append(cfgs, c)
		}
	} else {
		var c model.Config
		if *cfgJSON != "" {
			if err := json.Unmarshal([]byte(*cfgJSON), &c); err != nil {
				return fmt.Errorf("parse -config: %w", err)
			}
		}
		cfgs = []model.Config{c}
	}
	for k, cs := range strings.Split(*cads, ",") {
		cad := cadList[k]
		// counts[c][m] are config c's counts on meta row m.
		counts := make([][]spaceeval.Counts, len(cfgs))
		for ci, cfg := range cfgs {
			res, err := replay(files, cfg, cad)
			if err != nil {
				return err
			}
			if *out != "" {
				if err := writeCSVs(filepath.Join(*out, cs), files, res); err != nil {
					return err
				}
			}
			counts[ci] = make([]spaceeval.Counts, len(metas))
			var all spaceeval.Result
			fpMech := map[string]int{}
			for mi, m := range metas {
				sc, fpFirst := evaluate(res[m.Series][m.NTrain:], m)
				counts[ci][mi] = sc.Total
				all.Add(sc)
				for _, mech := range fpFirst {
					fpMech[mech]++
				}
				if *detail {
					fmt.Fprintf(w, "%-10s %s true=%v tp=%d fp=%d fn=%d fp_mech=%v\n", m.Series, cs, m.Sequences, sc.Total.TP, sc.Total.FP, sc.Total.FN, fpFirst)
				}
			}
			t := all.Total
			fmt.Fprintf(w, "cadence %-5s config %d %s: TP=%d FP=%d FN=%d P=%.3f R=%.3f F1=%.3f recall %v fp-mech %v\n",
				cs, ci, cfgString(cfgs[ci]), t.TP, t.FP, t.FN, t.Precision(), t.Recall(), t.F1(), clsString(all), fpMech)
		}
		if len(cfgs) > 1 {
			// Grouped CV: every meta row of a channel is held out together.
			var held spaceeval.Counts
			chosen := map[int]int{}
			seen := map[string]bool{}
			for _, m := range metas {
				if seen[m.Series] {
					continue
				}
				seen[m.Series] = true
				out := func(i int) bool { return metas[i].Series == m.Series }
				best, bestF := 0, -1.0
				for ci := range cfgs {
					if f := total(counts[ci], func(i int) bool { return !out(i) }).F1(); f > bestF+1e-12 {
						best, bestF = ci, f
					}
				}
				chosen[best]++
				held = held.Add(total(counts[best], out))
			}
			fmt.Fprintf(w, "cadence %-5s grouped CV: TP=%d FP=%d FN=%d P=%.3f R=%.3f F1=%.3f chosen %v\n", cs, held.TP, held.FP, held.FN, held.Precision(), held.Recall(), held.F1(), chosen)
		}
	}
	return nil
}

type verdict struct {
	score float64
	flag  bool
	mech  string
}

func replay(files map[string]*nabeval.File, cfg model.Config, cad time.Duration) (map[string][]verdict, error) {
	if _, err := model.NewDetector(cfg); err != nil {
		return nil, err
	}
	res := map[string][]verdict{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	epoch := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for name, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, _ := model.NewDetector(cfg)
			vs := make([]verdict, len(f.Values))
			for i, v := range f.Values {
				r := d.Update(epoch+int64(i)*int64(cad), v)
				vs[i] = verdict{r.Score, r.Anomaly, r.Mechanism.String()}
			}
			mu.Lock()
			res[name] = vs
			mu.Unlock()
		}()
	}
	wg.Wait()
	return res, nil
}

// evaluate scores one label row on the flags of its test rows with
// telemanom's counting (spaceeval, no buffer) and names the mechanism and
// row of each false positive's first flag.
func evaluate(r []verdict, e spaceeval.Entry) (res spaceeval.Result, fpMech []string) {
	flags := make([]bool, len(r))
	for i, v := range r {
		flags[i] = v.flag
	}
	pred := spaceeval.Sequences(flags, 0)
	for _, p := range pred {
		if c, _ := spaceeval.Evaluate([][2]int{p}, e.Sequences); c.FP > 0 {
			fpMech = append(fpMech, r[p[0]].mech+"@"+strconv.Itoa(p[0]))
		}
	}
	return spaceeval.ScoreEntry(e, flags, 0), fpMech
}

// total sums the counts of the meta rows keep keeps.
func total(c []spaceeval.Counts, keep func(int) bool) spaceeval.Counts {
	var t spaceeval.Counts
	for i, x := range c {
		if keep(i) {
			t = t.Add(x)
		}
	}
	return t
}

// clsString is the recall per class, "contextual 8/19, point 26/30".
func clsString(r spaceeval.Result) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Labelled)) {
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, r.Found[k], r.Labelled[k]))
	}
	return strings.Join(parts, ", ")
}

func cfgString(c model.Config) string {
	b, _ := json.Marshal(c)
	return string(b)
}

// writeCSVs writes agctl replay's columns (timestamp,value,anomaly_score,
// anomaly,source,reason,mechanism) for score.py.
func writeCSVs(dir string, files map[string]*nabeval.File, res map[string][]verdict) error {
	for name, f := range files {
		p := filepath.Join(dir, name+".csv")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		var sb strings.Builder
		sb.WriteString("timestamp,value,anomaly_score,anomaly,source,reason,mechanism\n")
		for i, v := range res[name] {
			fmt.Fprintf(&sb, "%s,%s,%g,%t,MODEL,,%s\n", f.Raw[i], strconv.FormatFloat(f.Values[i], 'g', -1, 64), v.score, v.flag, v.mech)
		}
		if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ceilingTable prints the ceiling study's tables (markdown): each
// predictor's pooled counts under telemanom's thresholding, with no scoring
// buffer, then its F1 under each thresholding variant with no buffer and
// with telemanom's 100, and per variant the predictor chosen by grouped
// cross-validation (each channel scored with the predictor that has the
// best F1, no buffer, on the other channels); and the model's own flags at
// 60 s beside the same with the rows telemanom never judges removed.
func ceilingTable(w io.Writer, metas []spaceeval.Entry, files map[string]*nabeval.File, detail bool) error {
	values := map[string][]float64{}
	for name, f := range files {
		values[name] = f.Values
	}
	preds := []ceiling.Predictor{
		ceiling.Persistence{},
		ceiling.AR{P: 10, Ridge: 1e-3},
		ceiling.AR{P: 50, Ridge: 1e-3},
		ceiling.AR{P: 250, Ridge: 1e-3},
		ceiling.AR{P: 10, Ridge: 1e-5},
		ceiling.KNN{W: 10, K: 5},
		ceiling.KNN{W: 10, K: 1},
		ceiling.KNN{W: 10, K: 10},
		ceiling.KNN{W: 5, K: 5},
		ceiling.KNN{W: 20, K: 5},
		ceiling.KNN{W: 30, K: 5},
	}
	tm, stale, causal, causal10 := ceiling.Telemanom(), ceiling.Telemanom(), ceiling.Telemanom(), ceiling.Telemanom()
	stale.Stale = true
	causal.Causal = true
	causal10.Causal, causal10.BatchSize, causal10.WindowSize = true, 10, 210
	variants := []ceiling.Params{tm, stale, causal, causal10}
	names := []string{"telemanom", "telemanom 2018", "causal, batch 70", "causal, batch 10"}
	buffers := []int{0, 100}
	rows, err := ceiling.Study(metas, values, preds, variants, buffers)
	if err != nil {
		return err
	}
	at := func(k, v, b int) ceiling.Row { return rows[(k*len(variants)+v)*len(buffers)+b] }
	fmt.Fprintln(w, "Thresholding: telemanom (no scoring buffer)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| predictor | TP | FP | FN | P | R | F1 | recall by class |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for k := range preds {
		r := at(k, 0, 0)
		t := r.Result.Total
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.3f | %.3f | %.3f | %s |\n",
			r.Predictor, t.TP, t.FP, t.FN, t.Precision(), t.Recall(), t.F1(), clsString(r.Result))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "F1 per thresholding variant, no buffer / buffer 100")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| predictor | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for k, pr := range preds {
		fmt.Fprintf(w, "| %s |", pr)
		for v := range variants {
			fmt.Fprintf(w, " %.3f / %.3f |", at(k, v, 0).Result.Total.F1(), at(k, v, 1).Result.Total.F1())
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "| grouped CV over the predictors |")
	var picks []string
	for v, name := range names {
		var cand [][]spaceeval.Counts
		for k := range preds {
			cand = append(cand, at(k, v, 0).Entries)
		}
		t, chosen := groupedCV(metas, cand)
		fmt.Fprintf(w, " %.3f (P %.3f R %.3f) |", t.F1(), t.Precision(), t.Recall())
		var ps []string
		for _, k := range slices.Sorted(maps.Keys(chosen)) {
			ps = append(ps, fmt.Sprintf("%s %d", preds[k], chosen[k]))
		}
		picks = append(picks, name+": "+strings.Join(ps, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Chosen by the cross-validation (folds): "+strings.Join(picks, "; "))
	if detail {
		for _, v := range []int{0, 2} {
			fmt.Fprintf(w, "\nPer label row, %s: TP/FP/FN\n\n| series | classes |", names[v])
			for _, pr := range preds {
				fmt.Fprintf(w, " %s |", pr)
			}
			fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---|", len(preds)))
			for i, m := range metas {
				fmt.Fprintf(w, "| %s | %s |", m.Series, m.ClassText)
				for k := range preds {
					c := at(k, v, 0).Entries[i]
					fmt.Fprintf(w, " %d/%d/%d |", c.TP, c.FP, c.FN)
				}
				fmt.Fprintln(w)
			}
		}
	}
	// The model's own flags, and the same with the flags on test rows
	// telemanom never judges (the first l_s and ignored rows, the last
	// Horizon) removed: what the warm-up rule alone is worth.
	res, err := replay(files, model.Config{}, time.Minute)
	if err != nil {
		return err
	}
	var own, masked spaceeval.Result
	for _, m := range metas {
		flags := make([]bool, m.NTest)
		for i, v := range res[m.Series][m.NTrain:] {
			flags[i] = v.flag
		}
		own.Add(spaceeval.ScoreEntry(m, flags, 0))
		from, to := tm.Judged(m.NTest)
		for i := range flags {
			flags[i] = flags[i] && i >= from && i < to
		}
		masked.Add(spaceeval.ScoreEntry(m, flags, 0))
	}
	fmt.Fprintln(w)
	for _, r := range []struct {
		name string
		res  spaceeval.Result
	}{{"model path, own flags, 60 s", own}, {"the same, flags on rows telemanom never judges removed", masked}} {
		t := r.res.Total
		fmt.Fprintf(w, "%s: TP=%d FP=%d FN=%d P=%.3f R=%.3f F1=%.3f recall %s\n", r.name, t.TP, t.FP, t.FN, t.Precision(), t.Recall(), t.F1(), clsString(r.res))
	}
	return nil
}

// groupedCV scores each channel (all its label rows) with the candidate
// that has the best F1 on the other channels; counts[c][m] are candidate
// c's counts on meta row m. It returns the pooled held-out counts and how
// often each candidate was chosen.
func groupedCV(metas []spaceeval.Entry, counts [][]spaceeval.Counts) (spaceeval.Counts, map[int]int) {
	var held spaceeval.Counts
	chosen := map[int]int{}
	for _, s := range spaceeval.SeriesOf(metas) {
		out := func(i int) bool { return metas[i].Series == s }
		best, bestF := 0, -1.0
		for c := range counts {
			if f := total(counts[c], func(i int) bool { return !out(i) }).F1(); f > bestF+1e-12 {
				best, bestF = c, f
			}
		}
		chosen[best]++
		held = held.Add(total(counts[best], out))
	}
	return held, chosen
}
