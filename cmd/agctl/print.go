package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// printer renders BreakerAdmin responses as tables or protojson.
type printer struct {
	w    io.Writer
	json bool
}

func (p *printer) protoJSON(m proto.Message, multiline bool) error {
	opts := protojson.MarshalOptions{}
	if multiline {
		opts.Multiline, opts.Indent = true, "  " // a non-empty Indent alone would imply Multiline
	}
	b, err := opts.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = fmt.Fprintf(p.w, "%s\n", b)
	return err
}

func (p *printer) list(resp *astraguardv1.ListBreakersResponse) error {
	if p.json {
		return p.protoJSON(resp, true)
	}
	return p.table(resp.GetBreakers())
}

func (p *printer) table(bs []*astraguardv1.Breaker) error {
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tOVERRIDE\tFAILURES\tTRIPS\tRECOVERIES\tREJECTED\tLAST CHANGE")
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", printable(b.GetName()), stateWord(b.GetState()),
			overrideText(b), b.GetConsecutiveFailures(), b.GetTrips(), b.GetRecoveries(),
			b.GetTotals().GetRejected(), stamp(b.GetLastTransitionTime()))
	}
	return tw.Flush()
}

// breaker prints the breaker of a Get/Reset/Force response.
func (p *printer) breaker(resp interface {
	proto.Message
	GetBreaker() *astraguardv1.Breaker
}) error {
	if p.json {
		return p.protoJSON(resp, true)
	}
	b := resp.GetBreaker()
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s:\t%v\n", k, v) }
	row("name", printable(b.GetName()))
	row("state", stateWord(b.GetState()))
	row("override", overrideText(b))
	row("consecutive failures", b.GetConsecutiveFailures())
	row("consecutive successes", b.GetConsecutiveSuccesses())
	row("trips", b.GetTrips())
	row("recoveries", b.GetRecoveries())
	row("last change", stamp(b.GetLastTransitionTime()))
	row("time open (total)", roundDur(b.GetOpenDuration()))
	if b.GetNextProbeTime() != nil {
		row("next probe", stamp(b.GetNextProbeTime()))
	}
	row("window", countsText(b.GetWindow()))
	row("totals", countsText(b.GetTotals()))
	s := b.GetSettings()
	row("settings", fmt.Sprintf("failure_threshold=%d recovery_timeout=%s success_threshold=%d max_probes=%d probe_timeout=%s",
		s.GetFailureThreshold(), dur(s.GetRecoveryTimeout()), s.GetSuccessThreshold(), s.GetMaxProbes(), dur(s.GetProbeTimeout())))
	for _, r := range ratioRules(s) {
		row(r[0], r[1])
	}
	return tw.Flush()
}

// ratioRules describes the rules that are on beyond the consecutive
// count, one row each; all off is one row saying so.
func ratioRules(s *astraguardv1.BreakerSettings) [][2]string {
	var rows [][2]string
	if cw := s.GetCountWindow(); cw != nil {
		rows = append(rows, [2]string{"count window", fmt.Sprintf("failure_ratio=%g of the last %d calls (min_calls=%d)",
			cw.GetFailureRatio(), cw.GetSize(), cw.GetMinCalls())})
	}
	if tw := s.GetTimeWindow(); tw != nil {
		rows = append(rows, [2]string{"time window", fmt.Sprintf("failure_ratio=%g over %s in %d buckets (min_calls=%d)",
			tw.GetFailureRatio(), dur(tw.GetLength()), tw.GetBuckets(), tw.GetMinCalls())})
	}
	if s.GetSlowCallDuration().AsDuration() > 0 {
		rows = append(rows, [2]string{"slow calls", fmt.Sprintf("ratio=%g of calls slower than %s",
			s.GetSlowCallRatioThreshold(), dur(s.GetSlowCallDuration()))})
	}
	if bo := s.GetBackoff(); bo != nil && bo.GetMultiplier() > 1 {
		limit := "unbounded"
		if bo.GetMax() != nil {
			limit = "up to " + dur(bo.GetMax())
		}
		rows = append(rows, [2]string{"backoff", fmt.Sprintf("recovery wait x%g per trip, %s, jitter %g", bo.GetMultiplier(), limit, bo.GetJitter())})
	}
	if len(rows) == 0 {
		rows = append(rows, [2]string{"ratio rules", "off (count window, time window, slow calls, backoff)"})
	}
	return rows
}

func (p *printer) watch(msg *astraguardv1.WatchBreakersResponse) error {
	if p.json {
		return p.protoJSON(msg, false)
	}
	if snap := msg.GetSnapshot(); snap != nil {
		return p.table(snap.GetBreakers())
	}
	if t := msg.GetTransition(); t != nil {
		_, err := fmt.Fprintf(p.w, "%s  %s  %s -> %s  %s\n", stamp(t.GetTime()), printable(t.GetName()),
			stateWord(t.GetFrom()), stateWord(t.GetTo()), printable(t.GetReason()))
		return err
	}
	return nil
}

// printable returns s, or s quoted with its non-graphic characters
// escaped when it has any. Names, reasons and error messages come from the
// server and go to a terminal, where an escape sequence could rewrite the
// screen, the window title or the clipboard, and a line break or carriage
// return could forge a line of the table; the service never stores such
// text, but agctl may be pointed at any server.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// printableLines applies printable to each line of a message agctl made
// of several lines (a server's own message is quoted whole where it is
// wrapped, so its line breaks cannot start a line).
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	return strings.Join(lines, "\n")
}

func stateWord(s astraguardv1.BreakerState) string {
	return enumWord(s.String(), "BREAKER_STATE_")
}

func overrideText(b *astraguardv1.Breaker) string {
	if b.GetOverride() == astraguardv1.Override_OVERRIDE_UNSPECIFIED {
		return "-"
	}
	var parts []string
	if r := b.GetOverrideReason(); r != "" {
		parts = append(parts, fmt.Sprintf("%q", r))
	}
	if e := b.GetOverrideExpireTime(); e != nil {
		parts = append(parts, "until "+stamp(e))
	}
	s := enumWord(b.GetOverride().String(), "OVERRIDE_")
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

func countsText(c *astraguardv1.BreakerCounts) string {
	return fmt.Sprintf("successes=%d failures=%d ignored=%d rejected=%d slow=%d",
		c.GetSuccesses(), c.GetFailures(), c.GetIgnored(), c.GetRejected(), c.GetSlow())
}

func stamp(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// roundDur renders a cumulative duration to the second (to the
// millisecond below one second): nanoseconds of a total are noise.
func roundDur(d *durationpb.Duration) string {
	v := d.AsDuration()
	if v < time.Second {
		return v.Round(time.Millisecond).String()
	}
	return v.Round(time.Second).String()
}

func dur(d *durationpb.Duration) string {
	if d == nil {
		return "0s"
	}
	return d.AsDuration().String()
}
