package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// stats counts replay outcomes; safe for concurrent use.
type stats struct {
	rows, model, heuristic, errored, anomalies atomic.Int64
	filesDone, filesFailed                     atomic.Int64
}

func (s *stats) add(vs []*astraguardv1.Verdict) {
	var m, h, e, a int64
	for _, v := range vs {
		switch {
		case v.GetError() != nil:
			e++
		case v.GetSource() == astraguardv1.Source_SOURCE_MODEL:
			m++
		case v.GetSource() == astraguardv1.Source_SOURCE_HEURISTIC:
			h++
		}
		if v.GetAnomaly() {
			a++
		}
	}
	s.rows.Add(int64(len(vs)))
	s.model.Add(m)
	s.heuristic.Add(h)
	s.errored.Add(e)
	s.anomalies.Add(a)
}

// summary is the one-line report printed when the replay ends.
func (s *stats) summary(files int, took time.Duration) string {
	rate := float64(s.rows.Load()) / max(took.Seconds(), 1e-9)
	return fmt.Sprintf("replayed %d/%d files, %d rows in %s (%.0f rows/s): model %d, heuristic %d, errors %d, anomalies %d, failed files %d",
		s.filesDone.Load(), files, s.rows.Load(), took.Round(time.Millisecond), rate,
		s.model.Load(), s.heuristic.Load(), s.errored.Load(), s.anomalies.Load(), s.filesFailed.Load())
}

// progressBar redraws a one-line bar on a terminal until stopped.
type progressBar struct {
	w           io.Writer
	st          *stats
	files, rows int
	start       time.Time
	done        chan struct{}
	wg          sync.WaitGroup
}

// startProgress starts the redraw goroutine; stop ends it and waits.
func startProgress(w io.Writer, st *stats, files, rows int) *progressBar {
	p := &progressBar{w: w, st: st, files: files, rows: rows, start: time.Now(), done: make(chan struct{})}
	p.wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.done:
				p.draw()
				fmt.Fprintln(p.w)
				return
			}
		}
	})
	return p
}

func (p *progressBar) stop() {
	close(p.done)
	p.wg.Wait()
}

func (p *progressBar) draw() {
	const width = 30
	done := p.st.rows.Load()
	frac := 1.0
	if p.rows > 0 {
		frac = min(float64(done)/float64(p.rows), 1)
	}
	n := int(frac * width)
	rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %d/%d rows, %d/%d files, %.0f rows/s ",
		strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac, done, p.rows,
		p.st.filesDone.Load()+p.st.filesFailed.Load(), p.files, rate)
}
