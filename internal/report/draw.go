package report

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"
)

// Chart geometry, in pixels of the SVG's viewBox.
const (
	chartHeight = 240
	padL, padR  = 62, 10
	padT, padB  = 10, 34
)

// column aggregates the samples drawn in one pixel column.
type column struct {
	n              int
	lo, hi         float64
	loFirst        bool // the minimum came before the maximum
	band           bool
	bandLo, bandHi float64
	heuristic      bool
}

// draw renders s as an inline SVG chart width pixels wide.
func draw(s Series, width int) template.HTML {
	plotW := width - padL - padR
	if plotW < 10 || len(s.Samples) == 0 {
		return template.HTML(`<p class="empty">no samples</p>`)
	}
	t0, t1 := s.Samples[0].UnixNanos, s.Samples[len(s.Samples)-1].UnixNanos
	byIndex := t1 <= t0 // unusable timestamps: place samples by row
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range s.Samples {
		if finite(x.Value) {
			lo, hi = math.Min(lo, x.Value), math.Max(hi, x.Value)
		}
		if x.HasBand && finite(x.Lower) && finite(x.Upper) {
			lo, hi = math.Min(lo, x.Lower), math.Max(hi, x.Upper)
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	pad := (hi - lo) * 0.05
	lo, hi = lo-pad, hi+pad
	xOf := func(i int, t int64) float64 {
		if byIndex {
			return padL + float64(plotW)*float64(i)/float64(max(1, len(s.Samples)-1))
		}
		return padL + float64(plotW)*float64(t-t0)/float64(t1-t0)
	}
	plotH := float64(chartHeight - padT - padB)
	yOf := func(v float64) float64 { return padT + plotH*(hi-v)/(hi-lo) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img">`, width, chartHeight)
	for _, v := range []float64{hi - pad, (hi + lo) / 2, lo + pad} {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text x="%d" y="%s" text-anchor="end">%s</text>`,
			padL, width-padR, num(yOf(v)), num(yOf(v)), padL-5, num(yOf(v)+4), label(v))
	}
	for _, w := range s.Windows {
		a, z := xOf(0, w[0]), xOf(0, w[1])
		if byIndex { // windows are in time; place them by their nearest rows
			a, z = xOf(nearest(s.Samples, w[0]), 0), xOf(nearest(s.Samples, w[1]), 0)
		}
		a, z = clamp(a, padL, float64(width-padR)), clamp(z, padL, float64(width-padR))
		fmt.Fprintf(&b, `<rect class="label" x="%s" y="%d" width="%s" height="%s"/>`, num(a), padT, num(math.Max(z-a, 1.5)), num(plotH))
	}

	cols := make([]column, plotW)
	raw := len(s.Samples) <= 2*plotW
	var line, bandUp, bandDown []string
	flushBand := func() {
		if len(bandUp) > 0 {
			slices.Reverse(bandDown)
			fmt.Fprintf(&b, `<polygon class="band" points="%s %s"/>`, strings.Join(bandUp, " "), strings.Join(bandDown, " "))
		}
		bandUp, bandDown = bandUp[:0], bandDown[:0]
	}
	flags := map[[2]int]bool{}
	var marks strings.Builder
	for i, x := range s.Samples {
		if !finite(x.Value) {
			continue
		}
		px := xOf(i, x.UnixNanos)
		c := &cols[int(clamp(px-padL, 0, float64(plotW-1)))]
		if raw {
			line = append(line, pt(px, yOf(x.Value)))
			if x.HasBand {
				bandUp, bandDown = append(bandUp, pt(px, yOf(x.Upper))), append(bandDown, pt(px, yOf(x.Lower)))
			} else {
				flushBand()
			}
		}
		c.add(x)
		if x.Flag {
			k := [2]int{int(math.Round(px)), int(math.Round(yOf(x.Value)))}
			if !flags[k] {
				flags[k] = true
				class := "flag"
				if x.Heuristic {
					class = "flag heuristic"
				}
				fmt.Fprintf(&marks, `<circle class="%s" cx="%s" cy="%s" r="3.5"/>`, class, num(px), num(yOf(x.Value)))
			}
		}
	}
	if !raw { // one column per pixel: its range, in the order it happened
		for i, c := range cols {
			if c.n == 0 {
				flushBand()
				continue
			}
			px := float64(padL + i)
			first, second := c.lo, c.hi
			if !c.loFirst {
				first, second = c.hi, c.lo
			}
			line = append(line, pt(px, yOf(first)), pt(px+0.5, yOf(second)))
			if c.band {
				bandUp, bandDown = append(bandUp, pt(px, yOf(c.bandHi)), pt(px+1, yOf(c.bandHi))), append(bandDown, pt(px, yOf(c.bandLo)), pt(px+1, yOf(c.bandLo)))
			} else {
				flushBand()
			}
		}
	}
	flushBand()
	fmt.Fprintf(&b, `<polyline class="value" points="%s"/>`, strings.Join(line, " "))
	for i, c := range cols {
		if c.heuristic {
			fmt.Fprintf(&b, `<rect class="heur" x="%d" y="%d" width="1" height="5"/>`, padL+i, chartHeight-padB+3)
		}
	}
	b.WriteString(marks.String())
	stamp := func(t int64) string { return time.Unix(0, t).UTC().Format("2006-01-02 15:04") }
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text><text x="%d" y="%d" text-anchor="end">%s UTC</text></svg>`,
		padL, chartHeight-6, stamp(t0), width-padR, chartHeight-6, stamp(t1))
	return template.HTML(b.String()) // numbers and fixed text only
}

func (c *column) add(x Sample) {
	if c.n == 0 {
		c.lo, c.hi = x.Value, x.Value
	}
	if x.Value < c.lo {
		c.lo, c.loFirst = x.Value, false
	}
	if x.Value > c.hi {
		c.hi, c.loFirst = x.Value, true
	}
	c.n++
	if x.HasBand && finite(x.Lower) && finite(x.Upper) {
		if !c.band {
			c.bandLo, c.bandHi = x.Lower, x.Upper
		}
		c.band = true
		c.bandLo, c.bandHi = math.Min(c.bandLo, x.Lower), math.Max(c.bandHi, x.Upper)
	}
	c.heuristic = c.heuristic || x.Heuristic
}

func nearest(ss []Sample, t int64) int {
	for i, x := range ss {
		if x.UnixNanos >= t {
			return i
		}
	}
	return len(ss) - 1
}

func pt(x, y float64) string { return num(x) + "," + num(y) }

func clamp(v, a, b float64) float64 { return math.Min(math.Max(v, a), b) }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
