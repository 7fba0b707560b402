package chaos

import (
	"flag"
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/astraguard/astraguard/test/harness"
)

var fullRun = flag.Bool("chaos.full", false, "run the chaos suite with long phases (make chaos)")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(withBinaries{m}, leakIgnores()...)
}

// leakIgnores lists the goroutines goleak may find that are not ours.
//
// toxiproxy v2.12.0 leaks a link's toxic stages when the connection closes
// while a chunk is in flight: ToxicLink.write returns on the first write
// error without draining its channel, so the stage feeding it (a toxic's
// Pipe, e.g. NoopToxic.Pipe at `stub.Output <- c`) blocks forever. Every
// stage runs under ToxicStub.Run. The same race can leave the link's read
// goroutine blocked handing its last chunk to the first stage
// (stream.ChanWriter.Write on top of its stack). A proxy left running is
// still reported: its accept loop and its links' reads (in I/O wait, not
// a channel send) match neither ignore.
func leakIgnores() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2/toxics.(*ToxicStub).Run"),
		goleak.IgnoreTopFunction("github.com/Shopify/toxiproxy/v2/stream.(*ChanWriter).Write"),
	}
}

// withBinaries builds the service and model server once per run, before
// any test, without -race (harness.Build), and removes them after;
// under -short nothing is built because TestChaos skips.
type withBinaries struct{ m *testing.M }

func (w withBinaries) Run() int {
	flag.Parse()
	// Some toxics log through zerolog's global logger, at trace level by
	// default; their chatter would bury the summary table.
	zerolog.SetGlobalLevel(zerolog.Disabled)
	if testing.Short() {
		return w.m.Run()
	}
	return harness.Main(w.m, "astraguard", "astraguard-model")
}
