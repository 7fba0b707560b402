package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sample is one row of a replay and its verdict.
type Sample struct {
	UnixNanos int64
	Value     float64
	Flag      bool   // the verdict's anomaly flag
	Heuristic bool   // the heuristic answered
	Error     bool   // the sample could not be scored
	Mechanism string // what fired ("" for none)
	HasBand   bool
	Expected  float64
	Lower     float64
	Upper     float64
}

// Series is one replayed file.
type Series struct {
	ID      string
	Samples []Sample   // in time order
	Windows [][2]int64 // labelled windows, inclusive unix nanos
	// Labelled says the labels named this series (possibly with no
	// window); false when no labels were given or they do not name it.
	Labelled bool
}

// Mechanisms are the summary's mechanism columns, in the API's order with
// "other" last; a mechanism outside the list counts as "other".
var Mechanisms = []string{"shift", "season", "novelty", "stuck", "record", "limit", "context", "state", "other"}

// summary is one row of the summary table.
type summary struct {
	ID                     string
	Anchor                 string
	Samples, Flags, Errors int
	InLabels, Heuristic    int
	Windows, WindowsHit    int
	Labelled               bool
	ByMechanism            []int
}

func summarize(s Series, anchor string) summary {
	r := summary{ID: s.ID, Anchor: anchor, Samples: len(s.Samples), Windows: len(s.Windows), Labelled: s.Labelled,
		ByMechanism: make([]int, len(Mechanisms))}
	hit := make([]bool, len(s.Windows))
	for _, x := range s.Samples {
		if x.Error {
			r.Errors++
		}
		if !x.Flag {
			continue
		}
		r.Flags++
		if x.Heuristic {
			r.Heuristic++
		}
		m := slices.Index(Mechanisms, x.Mechanism)
		if m < 0 {
			m = len(Mechanisms) - 1
		}
		r.ByMechanism[m]++
		inside := false
		for i, w := range s.Windows {
			if x.UnixNanos >= w[0] && x.UnixNanos <= w[1] {
				hit[i], inside = true, true
			}
		}
		if inside {
			r.InLabels++
		}
	}
	for _, h := range hit {
		if h {
			r.WindowsHit++
		}
	}
	return r
}

// Options describe the report.
type Options struct {
	Title   string    // default "AstraGuard replay report"
	Source  string    // what was replayed (shown under the title)
	Created time.Time // shown when set
	Labels  string    // the labels file (shown when set)
	// Width is a chart's drawing width in pixels: the downsampling
	// resolution. Default 1000.
	Width int
}

// chart is one series' figure.
type chart struct {
	summary
	SVG template.HTML
}

type page struct {
	Options
	Mechanisms []string
	Total      summary
	Rows       []summary
	Charts     []chart
}

// Write renders the report of series to w.
func Write(w io.Writer, series []Series, o Options) error {
	if o.Title == "" {
		o.Title = "AstraGuard replay report"
	}
	if o.Width <= 0 {
		o.Width = 1000
	}
	p := page{Options: o, Mechanisms: Mechanisms, Total: summary{ID: "all series", ByMechanism: make([]int, len(Mechanisms))}}
	for i, s := range series {
		sum := summarize(s, "s"+strconv.Itoa(i))
		p.Rows = append(p.Rows, sum)
		p.Charts = append(p.Charts, chart{summary: sum, SVG: draw(s, o.Width)})
		t := &p.Total
		t.Samples, t.Flags, t.Errors, t.InLabels = t.Samples+sum.Samples, t.Flags+sum.Flags, t.Errors+sum.Errors, t.InLabels+sum.InLabels
		t.Heuristic, t.Windows, t.WindowsHit = t.Heuristic+sum.Heuristic, t.Windows+sum.Windows, t.WindowsHit+sum.WindowsHit
		t.Labelled = t.Labelled || sum.Labelled
		for m, n := range sum.ByMechanism {
			t.ByMechanism[m] += n
		}
	}
	if err := tmpl.Execute(w, p); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

func label(x float64) string {
	if a := math.Abs(x); a != 0 && (a >= 1e5 || a < 1e-3) {
		return strconv.FormatFloat(x, 'e', 2, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(a, b int) string {
		if b == 0 {
			return "–"
		}
		return strconv.FormatFloat(100*float64(a)/float64(b), 'f', 0, 64) + "%"
	},
	"join": strings.Join,
}).Parse(pageHTML))
