// Command spacereplay replays the spacecraft development channels
// (../shared/spacecraft: SMAP/MSL, train split then test split) through the
// model in-process, restamped at one or more cadences, and scores the
// model's own flags with telemanom's protocol (the same counting as the
// folder's score.py). With -out it also writes verdict CSVs in agctl
// replay's column layout, so score.py can check the numbers. With -grid it
// cross-validates a list of configurations grouped by channel: each
// channel is scored with the configuration that has the best F1 on the
// other channels. A development tool, not part of the service.
//
//	go run ./cmd/spacereplay -cadence 60s,300s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/nabeval"
)

type meta struct {
	Series     string   `json:"series"`
	Spacecraft string   `json:"spacecraft"`
	NTrain     int      `json:"n_train"`
	NTest      int      `json:"n_test"`
	Seqs       [][2]int `json:"anomaly_sequences"`
	Class      string   `json:"class"`
}

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
	detail := fs.Bool("detail", false, "per-channel counts and the mechanism of each false positive's first flag")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var metas []meta
	b, err := os.ReadFile(filepath.Join(*dir, "meta.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &metas); err != nil {
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
	for _, cs := range strings.Split(*cads, ",") {
		cad, err := time.ParseDuration(cs)
		if err != nil {
			return err
		}
		// counts[c][m] = tp, fp, fn for config c on meta row m.
		counts := make([][][3]int, len(cfgs))
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
			counts[ci] = make([][3]int, len(metas))
			cls := map[string][2]int{}
			fpMech := map[string]int{}
			for mi, m := range metas {
				r := res[m.Series][m.NTrain:]
				tp, fp, fn, matched, fpFirst := evaluate(r, m.Seqs)
				counts[ci][mi] = [3]int{tp, fp, fn}
				for k, c := range classes(m.Class) {
					v := cls[c]
					v[1]++
					if matched[k] {
						v[0]++
					}
					cls[c] = v
				}
				for _, mech := range fpFirst {
					fpMech[mech]++
				}
				if *detail {
					fmt.Fprintf(w, "%-10s %s true=%v tp=%d fp=%d fn=%d fp_mech=%v\n", m.Series, cs, m.Seqs, tp, fp, fn, fpFirst)
				}
			}
			t := total(counts[ci], nil)
			p, rc, f1 := prf(t)
			fmt.Fprintf(w, "cadence %-5s config %d %s: TP=%d FP=%d FN=%d P=%.3f R=%.3f F1=%.3f recall %v fp-mech %v\n",
				cs, ci, cfgString(cfgs[ci]), t[0], t[1], t[2], p, rc, f1, clsString(cls), fpMech)
		}
		if len(cfgs) > 1 {
			// Grouped CV: every meta row of a channel is held out together.
			held := [3]int{}
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
					_, _, f := prf(total(counts[ci], func(i int) bool { return !out(i) }))
					if f > bestF+1e-12 {
						best, bestF = ci, f
					}
				}
				chosen[best]++
				h := total(counts[best], out)
				for k := range held {
					held[k] += h[k]
				}
			}
			p, rc, f1 := prf(held)
			fmt.Fprintf(w, "cadence %-5s grouped CV: TP=%d FP=%d FN=%d P=%.3f R=%.3f F1=%.3f chosen %v\n", cs, held[0], held[1], held[2], p, rc, f1, chosen)
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

// evaluate is telemanom's evaluate_sequences on the flags of the test rows.
func evaluate(r []verdict, seqs [][2]int) (tp, fp, fn int, matched map[int]bool, fpMech []string) {
	matched = map[int]bool{}
	for i := 0; i < len(r); {
		if !r[i].flag {
			i++
			continue
		}
		j := i
		for j+1 < len(r) && r[j+1].flag {
			j++
		}
		hit := -1
		for k, s := range seqs {
			if i <= s[1] && s[0] <= j {
				hit = k
				break
			}
		}
		if hit >= 0 {
			if !matched[hit] {
				matched[hit] = true
				tp++
			}
		} else {
			fp++
			fpMech = append(fpMech, r[i].mech+"@"+strconv.Itoa(i))
		}
		i = j + 1
	}
	return tp, fp, len(seqs) - len(matched), matched, fpMech
}

func classes(s string) []string {
	s = strings.Trim(s, "[] ")
	var out []string
	for _, c := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

func total(c [][3]int, keep func(int) bool) [3]int {
	var t [3]int
	for i, x := range c {
		if keep != nil && !keep(i) {
			continue
		}
		for k := range t {
			t[k] += x[k]
		}
	}
	return t
}

func prf(t [3]int) (p, r, f1 float64) {
	if t[0]+t[1] > 0 {
		p = float64(t[0]) / float64(t[0]+t[1])
	}
	if t[0]+t[2] > 0 {
		r = float64(t[0]) / float64(t[0]+t[2])
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return
}

func clsString(m map[string][2]int) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, m[k][0], m[k][1]))
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
