// Package browser holds the breaker page's end-to-end test in headless
// Chromium (chromedp). It is its own module so chromedp stays out of the
// service's go.mod; `make test-deploy` (part of `make check`) runs it. No API stability promise.
package browser
