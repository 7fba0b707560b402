package chaos

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// row is one scenario's line in the summary table.
type row struct {
	name             string
	sent, verdicts   int
	lost, bad        int
	failedBeforeOpen int // failed model calls answered before the first breaker-open verdict
	failBound        int // what failedBeforeOpen may reach
	failedCalls      int // failed model calls during the fault
	timeoutCalls     int // of which timed out
	timeToOpen       time.Duration
	p99Open, p99Base time.Duration
	timeToClose      time.Duration
	trips            uint64
	gBefore, gAfter  int
	rewarmed         string
	result           string
}

// analyze checks the streams' record against the scenario's marks.
func analyze(t *testing.T, cfg settings, sc scenario, streams []*stream, hist map[string][]change, m marks, calls totals, r *row) {
	var all []response
	for _, s := range streams {
		r.sent += s.sent
		r.verdicts += s.verdicts
		r.lost += s.lost
		r.bad += s.bad + s.mismatched
		if s.err != nil {
			t.Errorf("stream %d ended with %v; a model fault must never end a client's stream", s.id, s.err)
		}
		if s.lost != 0 || s.sent != s.verdicts {
			t.Errorf("stream %d: %d samples sent, %d verdicts, %d lost; want one verdict per sample", s.id, s.sent, s.verdicts, s.lost)
		}
		if s.bad+s.mismatched > 0 {
			t.Errorf("stream %d: %d bad verdicts, %d mismatched responses; first: %s", s.id, s.bad, s.mismatched, s.badExample)
		}
		all = append(all, s.responses...)
	}
	slices.SortFunc(all, func(a, b response) int { return a.recvAt.Compare(b.recvAt) })
	checkAccounting(t, all, calls)

	var firstOpen *response
	for i := range all {
		if all[i].recvAt.After(m.fault) && all[i].all(kindOpen) {
			firstOpen = &all[i]
			break
		}
	}
	if firstOpen == nil {
		t.Errorf("no request was answered with reason breaker open after the fault")
		return
	}
	r.timeToOpen = firstOpen.recvAt.Sub(m.fault)

	// One request is one model call, and a failed call turns its whole
	// batch to the heuristic, so failed calls are counted per response.
	// Streams run concurrently: calls already admitted when the breaker
	// trips may still fail, one per other stream.
	r.failBound = cfg.failureThreshold + len(streams) - 1
	for _, x := range all {
		if !x.recvAt.After(m.fault) || x.kinds[kindFailed] == 0 {
			continue
		}
		if !x.recvAt.After(firstOpen.recvAt) {
			r.failedBeforeOpen++
		}
		if x.recvAt.Before(m.clear) {
			r.failedCalls++
			if x.timeout > 0 {
				r.timeoutCalls++
			}
		}
	}
	if r.failedBeforeOpen > r.failBound {
		t.Errorf("%d failed model calls were answered before the first breaker-open verdict; want at most %d (failure_threshold %d, plus one in flight per other stream)",
			r.failedBeforeOpen, r.failBound, cfg.failureThreshold)
	}
	if r.failedCalls < cfg.failureThreshold {
		t.Errorf("%d failed model calls during the fault, yet the breaker tripped; it needs %d consecutive failures", r.failedCalls, cfg.failureThreshold)
	}
	if msg := misplacedSource(sc, all, m, firstOpen.recvAt); msg != "" {
		t.Error(msg)
	}
	if sc.onlyTimeouts && r.timeoutCalls != r.failedCalls {
		t.Errorf("%d of %d failed model calls said MODEL_TIMEOUT; a model that is only slow must give reason MODEL_TIMEOUT", r.timeoutCalls, r.failedCalls)
	}

	var open, base []time.Duration
	for _, x := range all {
		switch {
		case x.stream != latencyStream:
		case x.all(kindOpen) && !x.recvAt.Before(firstOpen.recvAt) && x.recvAt.Before(m.clear):
			open = append(open, x.latency())
		case x.all(kindForced) && x.recvAt.After(m.base0) && x.recvAt.Before(m.base1):
			base = append(base, x.latency())
		}
	}
	const minLatencies = 20
	if len(open) < minLatencies || len(base) < minLatencies {
		t.Errorf("latency stream: %d breaker-open and %d forced-open answers; want at least %d of each to compare", len(open), len(base), minLatencies)
	} else {
		r.p99Open, r.p99Base = p99(open), p99(base)
		// The bound is loose on purpose: an open breaker must not wait for
		// the model, so its p99 stays under the model deadline, unless the
		// machine is so loaded that the forced-open baseline is slow too.
		if r.p99Open >= cfg.modelTimeout && r.p99Open > 3*r.p99Base {
			t.Errorf("verdict p99 %v while the breaker was open, forced-open baseline %v, model deadline %v: an open breaker must answer without waiting for the model",
				r.p99Open, r.p99Base, cfg.modelTimeout)
		}
	}

	r.rewarmed = "-"
	if sc.restart {
		rewarmed := 0
		for id, ch := range hist {
			if k := kindAt(ch, m.fault); k != kindModel {
				t.Errorf("series %s: %v when the model server was killed, want model", id, k)
			}
			if k, ok := firstAnswerAfter(ch, m.clear); !ok || k != kindWarming {
				t.Errorf("series %s: first model answer after the restart was %v (found %v), want warming up: the new process has no state for it", id, k, ok)
				continue
			}
			rewarmed++
		}
		r.rewarmed = fmt.Sprintf("%d/%d", rewarmed, len(hist))
		return
	}
	for id, ch := range hist {
		for _, c := range ch {
			if c.at.After(m.fault) && c.to == kindWarming {
				t.Errorf("series %s warmed up again at +%v after the fault, yet the model server kept its state", id, c.at.Sub(m.fault))
				break
			}
		}
	}
}

// checkAccounting holds the breaker's books against what the clients saw.
// Each request is one Allow: refused (open, probe limit or forced: the
// whole batch gets that reason), or admitted and then counted as a success,
// failure or ignored outcome, or dropped when the breaker changed state
// while the call ran (dropped outcomes are not exported, hence <=).
func checkAccounting(t *testing.T, all []response, calls totals) {
	var refused uint64
	for _, x := range all {
		if x.kinds[kindOpen] > 0 || x.kinds[kindForced] > 0 {
			refused++
		}
	}
	if calls.rejected != refused {
		t.Errorf("breaker rejected %d calls, clients got %d responses saying breaker open, probe limit or forced open", calls.rejected, refused)
	}
	admitted := uint64(len(all)) - refused
	if got := calls.successes + calls.failures + calls.ignored; got > admitted {
		t.Errorf("breaker counted %d outcomes (%+v) for %d admitted calls", got, calls, admitted)
	}
}

// misplacedSource reports the first response whose source the fault rules
// out: forced open after the baseline, or, while a steady fault held the
// model unreachable, an answer from the model.
func misplacedSource(sc scenario, all []response, m marks, opened time.Time) string {
	for _, x := range all {
		if x.kinds[kindForced] > 0 && x.recvAt.After(m.fault) {
			return fmt.Sprintf("a response at +%v after the fault says forced open; only the baseline forced the breaker", x.recvAt.Sub(m.fault))
		}
		if sc.hold == nil && x.recvAt.After(opened) && x.recvAt.Before(m.clear) && x.kinds[kindModel]+x.kinds[kindWarming] > 0 {
			return fmt.Sprintf("a response at +%v after the fault came from the model, which was unreachable until +%v", x.recvAt.Sub(m.fault), m.clear.Sub(m.fault))
		}
	}
	return ""
}

// kindAt returns the kind a series was at time at.
func kindAt(ch []change, at time.Time) kind {
	k := kindBad
	for _, c := range ch {
		if c.at.After(at) {
			break
		}
		k = c.to
	}
	return k
}

// firstAnswerAfter returns the first kind after at that came from a model
// answer: model or warming up.
func firstAnswerAfter(ch []change, at time.Time) (kind, bool) {
	for _, c := range ch {
		if c.at.After(at) && (c.to == kindModel || c.to == kindWarming) {
			return c.to, true
		}
	}
	return kindBad, false
}

// p99 returns the 99th percentile (nearest rank) of ds, which it sorts.
func p99(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	i := (len(ds)*99+99)/100 - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func table(rows []row) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tsamples sent\tverdicts\tlost\tbad\tfailed calls before open (max)\tfailed calls in fault (timeouts)\ttime to open\tp99 open\tp99 forced-open\tratio\ttime to close\ttrips\tgoroutines before/after\tre-warmed\tresult\t")
	for _, r := range rows {
		ratio := "-"
		if r.p99Base > 0 {
			ratio = fmt.Sprintf("%.2f", float64(r.p99Open)/float64(r.p99Base))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d (%d)\t%d (%d)\t%s\t%s\t%s\t%s\t%s\t%d\t%d/%d\t%s\t%s\t\n",
			r.name, r.sent, r.verdicts, r.lost, r.bad, r.failedBeforeOpen, r.failBound, r.failedCalls, r.timeoutCalls,
			ms(r.timeToOpen), ms(r.p99Open), ms(r.p99Base), ratio, ms(r.timeToClose), r.trips, r.gBefore, r.gAfter, r.rewarmed, r.result)
	}
	_ = tw.Flush()
	return b.String()
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
