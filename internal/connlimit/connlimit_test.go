package connlimit

import (
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCountsAndReleases: an accepted connection is counted until its first
// Close (a second one gives nothing back twice), and closing it frees its
// place under the limit for the next one.
func TestCountsAndReleases(t *testing.T) {
	l, err := New(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis := l.Wrap(raw, "test")
	defer lis.Close()
	for i := range 2 { // the second is accepted only once the first closed
		client, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c, err := lis.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(l.Open("test")); got != 1 {
			t.Errorf("connection %d: open = %v, want 1", i, got)
		}
		_ = c.Close()
		_ = c.Close()
		_ = client.Close()
		if got := testutil.ToFloat64(l.Open("test")); got != 0 {
			t.Errorf("connection %d closed twice: open = %v, want 0", i, got)
		}
	}
}
