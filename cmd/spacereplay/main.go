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
			held, chosen := groupedCV(metas, counts)
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
