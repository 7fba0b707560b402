package browser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/test/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

// screenshot is kept as a test artifact (out/ is gitignored).
const screenshot = "../../out/breaker-page.png"

// chromium finds the browser: $CHROMIUM, else Debian's chromium on PATH.
// Without one the test skips, except under CI=true, where `make test-deploy`
// installs it and a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH and CI=true: make test-deploy installs Debian's chromium in CI")
	}
	t.Skip("no chromium on PATH: install Debian's chromium (apt-get install chromium) to run the breaker page test; CI=true makes this a failure")
	return ""
}

// TestBreakerPageLive loads the page in headless Chromium, forces the
// model breaker open through BreakerAdmin, and waits for the page to
// show it without a reload (a marker set on the first document must
// survive), then keeps a screenshot.
func TestBreakerPageLive(t *testing.T) {
	exe := chromium(t)
	svc := harness.Start(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-component-update", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	const card = `section[data-name="model"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate("http://"+svc.HTTPAddr+"/"),
		chromedp.WaitVisible(chromedp.CSS(card+`[data-state="CLOSED"][data-override="NONE"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="live"]`)),
	); err != nil {
		t.Fatalf("load the page: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.loadedOnce = "yes"`)); err != nil {
		t.Fatalf("mark the page: %v", err)
	}

	forceOpen(t, svc.GRPCAddr, "chromium test maintenance")

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(card+`[data-state="OPEN"][data-override="FORCED_OPEN"]`))); err != nil {
		t.Fatalf("wait for the forced-open breaker: %v", err)
	}
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	override, badge, history := text(card+` .override`), text(card+` .state`), text(card+` .transitions`)
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.loadedOnce || "reloaded"`))
	if err != nil {
		t.Fatal(err)
	}
	if marker != "yes" {
		t.Errorf("page marker = %q: the page reloaded instead of updating live", marker)
	}
	if !strings.Contains(override, "FORCED_OPEN: chromium test maintenance (until ") {
		t.Errorf("override = %q, want the reason and expiry", override)
	}
	if badge != "FORCED OPEN" {
		t.Errorf("state badge = %q, want FORCED OPEN", badge)
	}
	if !strings.Contains(history, "CLOSED → OPEN [FORCED_OPEN]") {
		t.Errorf("recent transitions = %q, want the forced one", history)
	}
	if totals := text(card + ` .totals`); !strings.HasSuffix(totals, " 1 trip") {
		t.Errorf("totals = %q, want them to end in \"1 trip\"", totals)
	}
	// Native controls (the transitions' scrollbar) follow the dark theme.
	if scheme, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).colorScheme`)); err != nil || scheme != "dark" {
		t.Errorf("color-scheme = %q, %v; want dark", scheme, err)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(screenshot), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(screenshot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(screenshot)
	t.Logf("screenshot: %s", abs)
}

func forceOpen(t *testing.T, addr, reason string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = astraguardv1.NewBreakerAdminClient(conn).ForceBreaker(t.Context(), &astraguardv1.ForceBreakerRequest{
		Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: reason, Ttl: durationpb.New(time.Hour),
	})
	if err != nil {
		t.Fatalf("ForceBreaker: %v", err)
	}
}
