package browser

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/test/harness"
)

// spikeSeries is the series the anomaly test sends.
const spikeSeries = "sat-7/bus-voltage"

// TestAnomalyViewLive loads the page, then sends a series with one spike:
// without a reload the spike's card appears in the feed (series, value,
// expected band) and the series' chart draws the value, the band and the
// flag. Screenshots at 1280 and 420 px wide go to out/.
func TestAnomalyViewLive(t *testing.T) {
	exe := chromium(t)
	svc := harness.Start(t)
	ctx := browserContext(t, exe, 1280, 900)

	if err := chromedp.Do(ctx,
		chromedp.Navigate("http://"+svc.HTTPAddr+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="live"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#anomalies[data-off="false"]`)),
	); err != nil {
		t.Fatalf("load the page: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.loadedOnce = "yes"`)); err != nil {
		t.Fatalf("mark the page: %v", err)
	}

	flagged := sendSpike(t, svc.GRPCAddr)

	item := `#feed li[data-series="` + spikeSeries + `"]`
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(item)),
		chromedp.WaitVisible(chromedp.CSS(`#context[data-series="`+spikeSeries+`"] svg.ctx circle.flag`)),
		chromedp.WaitVisible(chromedp.CSS(`#context svg.ctx polygon.band`)),
		chromedp.WaitVisible(chromedp.CSS(`#context svg.ctx polyline.value`)),
	); err != nil {
		t.Fatalf("wait for the spike's card and chart: %v", err)
	}
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	card := text(item)
	if !strings.Contains(card, spikeSeries) || !strings.Contains(card, "value "+strconv.FormatFloat(flagged, 'g', 4, 64)) || !strings.Contains(card, "expected ") {
		t.Errorf("feed card = %q, want the series, the spike's value %v and its expected band", card, flagged)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.loadedOnce || "reloaded"`))
	if err != nil || marker != "yes" {
		t.Errorf("page marker = %q, %v: the page reloaded instead of updating live", marker, err)
	}
	bands, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#context svg.ctx polygon.band").length`))
	if err != nil || bands == 0 {
		t.Errorf("band polygons = %d, %v; want the expected band drawn", bands, err)
	}
	shoot(t, ctx, "anomaly-view.png")

	// The same page at 420 px: still one column, nothing wider than the
	// viewport.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(420, 1400)); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || wide > 420 {
		t.Errorf("page width at 420 px = %d, %v; want no horizontal overflow", wide, err)
	}
	shoot(t, ctx, "anomaly-view-420.png")
}

// sendSpike sends 400 samples of a gently varying series, a second apart
// and ending now, with a spike at sample 380; it returns the value of a
// flagged sample after failing the test if none was flagged.
func sendSpike(t *testing.T, addr string) float64 {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n, spike = 400, 380
	s := &astraguardv1.SeriesSamples{SeriesId: spikeSeries}
	end := time.Now().Add(-time.Second).UnixNano()
	for i := range n {
		v := 28 + 0.3*math.Sin(float64(i)/9) + 0.05*math.Sin(float64(i)*1.7)
		if i == spike {
			v = 34.5
		}
		s.UnixNanos = append(s.UnixNanos, end-int64(n-1-i)*int64(time.Second))
		s.Values = append(s.Values, v)
	}
	resp, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{s}})
	if err != nil {
		t.Fatalf("DetectBatch: %v", err)
	}
	for i, v := range resp.GetVerdicts() {
		if v.GetAnomaly() {
			return s.Values[i]
		}
	}
	t.Fatalf("no sample flagged: the test needs the spike flagged to see it on the page")
	return 0
}

func browserContext(t *testing.T, exe string, w, h int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
		chromedp.Flag("disable-component-update", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// shoot keeps a full-page PNG in out/ (gitignored).
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join("..", "..", "out", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}
