package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", b.GetName(), stateWord(b.GetState()),
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
	row("name", b.GetName())
	row("state", stateWord(b.GetState()))
	row("override", overrideText(b))
	row("consecutive failures", b.GetConsecutiveFailures())
	row("consecutive successes", b.GetConsecutiveSuccesses())
	row("trips", b.GetTrips())
	row("recoveries", b.GetRecoveries())
	row("open for", dur(b.GetOpenDuration()))
	row("last change", stamp(b.GetLastTransitionTime()))
	if b.GetNextProbeTime() != nil {
		row("next probe", stamp(b.GetNextProbeTime()))
	}
	row("window", countsText(b.GetWindow()))
	row("totals", countsText(b.GetTotals()))
	s := b.GetSettings()
	row("settings", fmt.Sprintf("failure_threshold=%d recovery_timeout=%s success_threshold=%d max_probes=%d probe_timeout=%s",
		s.GetFailureThreshold(), dur(s.GetRecoveryTimeout()), s.GetSuccessThreshold(), s.GetMaxProbes(), dur(s.GetProbeTimeout())))
	row("ratio rules", fmt.Sprintf("failure_ratio=%g slow_call=%s slow_ratio=%g window_calls=%d window=%s min_calls=%d max_recovery_timeout=%s",
		s.GetFailureRatioThreshold(), dur(s.GetSlowCallDuration()), s.GetSlowCallRatioThreshold(), s.GetWindowCalls(),
		dur(s.GetWindowDuration()), s.GetMinCalls(), dur(s.GetMaxRecoveryTimeout())))
	return tw.Flush()
}

func (p *printer) watch(msg *astraguardv1.WatchBreakersResponse) error {
	if p.json {
		return p.protoJSON(msg, false)
	}
	if snap := msg.GetSnapshot(); snap != nil {
		return p.table(snap.GetBreakers())
	}
	if t := msg.GetTransition(); t != nil {
		_, err := fmt.Fprintf(p.w, "%s  %s  %s -> %s  %s\n", stamp(t.GetTime()), t.GetName(),
			stateWord(t.GetFrom()), stateWord(t.GetTo()), t.GetReason())
		return err
	}
	return nil
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

func dur(d *durationpb.Duration) string {
	if d == nil {
		return "0s"
	}
	return d.AsDuration().String()
}
