package scaleout

import (
	"context"
	"flag"
	"fmt"
	"github.com/astraguard/astraguard/test/harness"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/astraguard/astraguard/client"
	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/loadtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(harness.Suite{M: m}) }

// -scaleout.series sets the series count; make soak runs more than the
// default, which keeps make test short.
var nSeries = flag.Int("scaleout.series", 60, "series sent through the client")

// Phases: warmUp rounds of warmPer samples make every series warm on the
// reference model (it learns for 300 samples); after the event, rounds of
// eventPer samples keep a series that moved warming up on its new replica
// for the whole phase (eventMax*eventPer < 300), so its verdicts show it.
const (
	warmUp, warmPer     = 8, 40
	eventPer            = 10
	eventMin, eventMax  = 6, 25
	roundsAfterStop     = 3
	grace               = "--grace-period=1s"
	seriesMetric        = "astraguard_series"
	seriesMetricCompat  = "astraguard_series"
	testTimeout         = 90 * time.Second
	freezeToKillTimeout = 10 * time.Second
	drainPace           = 100 * time.Millisecond
)

// TestScaleOut runs three astraguard processes behind one client.Client
// (ring_hash on the partition key) and changes the replica set mid-run:
// a replica killed (frozen first, so it dies holding unanswered requests),
// a replica drained by SIGTERM, and a fourth replica added. Each time every
// sample is answered exactly once, only the series that had to move moved,
// and those, and only those, warm up again on their new replica.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs service processes")
	}
	bin := buildService(t)
	tests := []struct {
		name  string
		event func(ctx context.Context, t *testing.T, cl *cluster) (victim *harness.Process, stop func(round int) bool)
		// handover: the replicas share a --handover-dir; the moved series
		// must not warm up again, whether the victim drained "quiet" (see
		// drainQuietly), "live" or was "killed": the survivors adopt its
		// handover file or its last periodic checkpoint.
		handover string
	}{
		{"killed", killOne, ""},
		{"drained", drainOne, ""},
		{"added", addOne, ""},
		{"handover", drainQuietly, "quiet"},
		{"handover-live", drainOne, "live"},
		{"handover-killed", killOne, "killed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { scaleOut(t, bin, tt.event, tt.handover) })
	}
}

// cluster is the replicas and the client over them.
type cluster struct {
	bin string
	ins []*harness.Process
	// before is each replica's series gauge after the warm-up, by address.
	before map[string]int
	c      *client.Client
	tl     *tally
	hc     *http.Client
	d      *driver
}

func scaleOut(t *testing.T, bin string, event func(context.Context, *testing.T, *cluster) (*harness.Process, func(int) bool), handover string) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	cl := &cluster{bin: bin, tl: &tally{}, hc: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	dir := t.TempDir()
	for i := range 3 {
		flags := []string{grace}
		if handover != "" {
			flags = append(flags, "--handover-dir="+dir, fmt.Sprintf("--replica-name=%c", 'a'+i), "--checkpoint-interval="+scanEvery.String())
		}
		cl.ins = append(cl.ins, startInstance(t, bin, fmt.Sprintf("replica %c", 'A'+i), flags...))
	}
	c, err := client.New(strings.Join(cl.addrs(), ","), client.Config{Backoff: 5 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
		client.WithDialOptions(grpc.WithStreamInterceptor(cl.tl.intercept)))
	if err != nil {
		t.Fatalf("client.New() = %v", err)
	}
	defer c.Close()
	cl.c = c
	n := *nSeries
	cl.d = newDriver(c, n)

	warm := cl.d.run(ctx, t, warmPer, warmUp, warmUp, nil)
	before := cl.placement(ctx, t, warm, n)
	cl.before = before
	if handover != "" {
		// The warm-up is shorter than a checkpoint interval: wait for a
		// checkpoint of the warm state, as a replica that ran for longer
		// than one interval has.
		cl.waitCheckpointed(ctx, t, dir)
	}

	victim, stop := event(ctx, t, cl)
	ev := cl.d.run(ctx, t, eventPer, eventMin, eventMax, stop)
	st := c.Stats()
	if st.Duplicates != 0 || ev.errored != 0 || warm.errored != 0 {
		t.Errorf("duplicates %d, sample errors %d then %d; want none", st.Duplicates, warm.errored, ev.errored)
	}
	var moved, movedWarming, warmingStayed []string
	for s, from := range warm.owner {
		if ev.owner[s] != from {
			moved = append(moved, s)
			if ev.warming[s] {
				movedWarming = append(movedWarming, s)
			}
		} else if ev.warming[s] {
			warmingStayed = append(warmingStayed, s)
		}
	}
	share, warmShare := float64(len(moved))/float64(n), float64(len(ev.warming))/float64(n)
	t.Logf("RESULT %s: %d series, %d samples answered once each (lost 0, duplicates %d), %d re-opens, %d requests re-sent; moved %d (%.3f), warmed up again %d (%.3f), ideal 1/%d = %.3f; series per replica before %v",
		t.Name(), n, warm.samples+ev.samples, st.Duplicates, st.StreamsReopened, st.RequestsResent,
		len(moved), share, len(ev.warming), warmShare, len(cl.ins), 1/float64(len(cl.ins)), before)
	if handover != "" {
		adopted := 0.0
		for _, in := range cl.ins {
			if in != victim {
				adopted += cl.metric(ctx, t, in, "astraguard_state_handover_series_adopted_total")
			}
		}
		t.Logf("RESULT %s: handover (%s): %d of %d moved series warmed up again (%.3f of all series), %v adopted",
			t.Name(), handover, len(movedWarming), len(moved), float64(len(movedWarming))/float64(n), adopted)
		if want := len(moved); int(adopted) != want {
			t.Errorf("the survivors adopted %v series, want %d", adopted, want)
		}
	}
	switch {
	case len(warmingStayed) != 0:
		t.Errorf("%d series that stayed warmed up again; want none", len(warmingStayed))
	case handover == "" && len(movedWarming) != len(moved):
		t.Errorf("%d of %d moved series warmed up again; want every one (no handover)", len(movedWarming), len(moved))
	case handover != "" && len(movedWarming) != 0:
		// Killed, or cut with requests resent to a survivor before it
		// drained: the survivors adopt its last periodic checkpoint, at
		// most one --checkpoint-interval old, taken after the warm-up.
		t.Errorf("%d of %d moved series warmed up again; want none: their state was handed over", len(movedWarming), len(moved))
	}
	if victim == nil {
		cl.checkMovedOn(ctx, t, before, moved, ev)
	} else {
		cl.checkMovedOff(t, victim, warm, ev)
		if st.StreamsReopened == 0 {
			t.Errorf("no stream re-opened; want the victim's")
		}
	}
	if t.Failed() {
		t.Logf("before %v, moved %v", before, moved)
	}
}

func (cl *cluster) addrs() []string {
	var out []string
	for _, in := range cl.ins {
		out = append(out, in.GRPCAddr)
	}
	return out
}

// placement checks that each series is held by exactly one replica: the
// replicas' series gauges add up to the series count, and each equals the
// series the client saw answered there. It returns the gauges by replica.
func (cl *cluster) placement(ctx context.Context, t *testing.T, warm phase, n int) map[string]int {
	t.Helper()
	byClient := map[string]int{}
	for _, r := range warm.owner {
		byClient[r]++
	}
	got, sum := map[string]int{}, 0
	for _, in := range cl.ins {
		v := int(cl.series(ctx, t, in))
		got[in.GRPCAddr], sum = v, sum+v
		if v == 0 || v != byClient[in.GRPCAddr] {
			t.Errorf("%s holds %d series, the client saw %d answered there; want the same, and some", in.Name, v, byClient[in.GRPCAddr])
		}
	}
	if sum != n {
		t.Errorf("the replicas hold %d series in all, want %d: each series on exactly one replica", sum, n)
	}
	return got
}

// series reads a replica's series gauge.
func (cl *cluster) series(ctx context.Context, t *testing.T, in *harness.Process) float64 {
	t.Helper()
	b, err := loadtest.Scrape(ctx, cl.hc, "http://"+in.HTTPAddr+"/metrics")
	if err != nil {
		t.Fatalf("%s: %v", in.Name, err)
	}
	for _, name := range []string{seriesMetric, seriesMetricCompat} {
		if v, ok := loadtest.MetricSum(b, name); ok {
			return v
		}
	}
	t.Fatalf("%s: no %s in /metrics", in.Name, seriesMetric)
	return 0
}

// checkMovedOff checks that the victim's series, and only those, moved.
func (cl *cluster) checkMovedOff(t *testing.T, victim *harness.Process, warm, ev phase) {
	t.Helper()
	for s, from := range warm.owner {
		to := ev.owner[s]
		switch {
		case from == victim.GRPCAddr && to == from:
			t.Errorf("series %s still answered by the stopped %s", s, victim.Name)
		case from != victim.GRPCAddr && to != from:
			t.Errorf("series %s moved from %s to %s, want only the stopped replica's series to move", s, from, to)
		}
	}
}

// checkMovedOn checks that the series that moved all went to the newest
// replica, which holds them and no others, that the old replicas' series
// gauges did not change, and that about its share moved.
func (cl *cluster) checkMovedOn(ctx context.Context, t *testing.T, before map[string]int, moved []string, ev phase) {
	t.Helper()
	newest := cl.ins[len(cl.ins)-1]
	for _, s := range moved {
		if ev.owner[s] != newest.GRPCAddr {
			t.Errorf("series %s moved to %s, want only moves to the new %s", s, ev.owner[s], newest.Name)
		}
	}
	for _, in := range cl.ins {
		want := before[in.GRPCAddr]
		if in == newest {
			want = len(moved)
		}
		if got := int(cl.series(ctx, t, in)); got != want {
			t.Errorf("%s holds %d series after the scale-out, want %d", in.Name, got, want)
		}
	}
	// Generous bounds around 1/4: 60 series on a 256-entry-per-replica ring.
	if share := float64(len(moved)) / float64(*nSeries); share < 0.08 || share > 0.45 {
		t.Errorf("%.3f of the series moved to the new replica, want about 1/%d", share, len(cl.ins))
	}
}

// killOne freezes replica B after two rounds, waits until the client sent
// it a request it cannot answer, and kills it.
func killOne(ctx context.Context, t *testing.T, cl *cluster) (*harness.Process, func(int) bool) {
	victim := cl.ins[1]
	var at atomic.Int64
	at.Store(-1)
	return victim, func(round int) bool {
		switch {
		case round == 2:
			victim.Freeze(t)
			waitStopped(t, victim)
			before, _ := cl.tl.sendsTo(victim.GRPCAddr)
			// The next round sends to it; kill it once one went.
			go func() {
				if !cl.tl.waitSendTo(ctx, victim.GRPCAddr, before, freezeToKillTimeout) {
					t.Errorf("no request went to the frozen %s", victim.Name)
				}
				if err := victim.Kill(); err != nil {
					t.Error(err)
				}
				at.Store(int64(round))
			}()
		case at.Load() >= 0 && round >= int(at.Load())+roundsAfterStop:
			return true
		}
		return false
	}
}

// drainOne sends replica B SIGTERM after two rounds; it serves its open
// streams for its 1s grace period, then cuts them.
func drainOne(_ context.Context, t *testing.T, cl *cluster) (*harness.Process, func(int) bool) {
	victim := cl.ins[1]
	exitedAt := -1
	return victim, func(round int) bool {
		if round == 2 {
			victim.Terminate(t)
		}
		if exitedAt < 0 && round > 2 {
			// Pace the rounds while it drains, so they outlast its grace
			// period and its streams are cut mid-run.
			select {
			case <-victim.Exited():
				exitedAt = round
			case <-time.After(drainPace):
			}
		}
		return exitedAt >= 0 && round >= exitedAt+roundsAfterStop
	}
}

// addOne starts a fourth replica and hands the client the new list.
func addOne(_ context.Context, t *testing.T, cl *cluster) (*harness.Process, func(int) bool) {
	cl.ins = append(cl.ins, startInstance(t, cl.bin, "replica D", grace))
	if err := cl.c.SetAddrs(cl.addrs()); err != nil {
		t.Fatalf("SetAddrs() = %v", err)
	}
	return nil, func(int) bool { return true }
}

// scanEvery is how often the replicas look for handed-over state: the
// shortest --checkpoint-interval accepted.
const scanEvery = checkpoint.MinInterval

// drainQuietly drains replica B between two rounds, with no request in
// flight, and lets the survivors index its handover file before the next
// round: the moved series' first samples on a survivor then find their
// state. (drainOne with a handover directory measures the live case,
// where requests resent at the cut can reach a survivor first and find
// its last periodic checkpoint.)
func drainQuietly(ctx context.Context, t *testing.T, cl *cluster) (*harness.Process, func(int) bool) {
	victim := cl.ins[1]
	return victim, func(round int) bool {
		if round != 2 {
			return round >= 2+roundsAfterStop
		}
		victim.Terminate(t)
		select {
		case <-victim.Exited():
		case <-ctx.Done():
			t.Fatalf("%s did not exit", victim.Name)
		}
		cl.waitScanned(ctx, t, victim)
		return false
	}
}

// waitCheckpointed waits until every replica rewrote its file in dir
// after now, and every replica then completed a scan that began after.
func (cl *cluster) waitCheckpointed(ctx context.Context, t *testing.T, dir string) {
	t.Helper()
	start := time.Now()
	for i := range cl.ins {
		path := filepath.Join(dir, fmt.Sprintf("%c.snap", 'a'+i))
		for {
			if info, err := os.Stat(path); err == nil && info.ModTime().After(start) {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s was not rewritten", path)
			case <-time.After(scanEvery / 4):
			}
		}
	}
	cl.waitScanned(ctx, t, nil)
}

// waitScanned waits until every replica but skip completed a scan of the
// handover directory that began after the call: two more than it had.
func (cl *cluster) waitScanned(ctx context.Context, t *testing.T, skip *harness.Process) {
	t.Helper()
	for _, in := range cl.ins {
		if in == skip {
			continue
		}
		want := cl.metric(ctx, t, in, "astraguard_state_handover_scans_total") + 2
		for cl.metric(ctx, t, in, "astraguard_state_handover_scans_total") < want {
			select {
			case <-ctx.Done():
				t.Fatalf("%s did not scan the handover directory", in.Name)
			case <-time.After(scanEvery / 4):
			}
		}
	}
}

// metric reads one metric's sum from a replica.
func (cl *cluster) metric(ctx context.Context, t *testing.T, in *harness.Process, name string) float64 {
	t.Helper()
	b, err := loadtest.Scrape(ctx, cl.hc, "http://"+in.HTTPAddr+"/metrics")
	if err != nil {
		t.Fatalf("%s: %v", in.Name, err)
	}
	v, _ := loadtest.MetricSum(b, name)
	return v
}
