// Package anomalyview keeps what the page's anomaly view shows: the feed
// of the most recent anomalies over all series, the recent context of the
// series flagged last (value, expected band, flags), and the verdict
// traffic by source and fallback reason. It is a server.VerdictObserver
// (ObserveVerdicts), fed every scored batch.
//
// Bounds: the feed holds Config.Feed anomalies; the context buffer holds
// Config.Series series of Config.Samples samples each (48 bytes a sample:
// 256 x 240 take about 2.8 MiB), the series flagged longest ago evicted
// first. A series enters the buffer with the batch of its first anomaly
// (the samples of that batch before it included) and gets every later
// sample until it is evicted: the view keeps no history of series never
// flagged, so a series' context starts at the batch that first flagged it.
// A batch of series that are neither flagged nor kept costs one scan of
// its verdicts plus, while any series is kept, one map lookup per group;
// nothing is copied or locked exclusively for it.
//
// What it does not do: it keeps nothing across restarts, serves no HTTP
// (httpui relays the JSON it renders, so the page never imports detector:
// scripts/depcheck.sh) and exports no metrics (a series id is never a
// label).
//
// Concurrency: a View is safe for concurrent use; ObserveVerdicts never
// blocks on anything but the view's own short critical sections. No API
// stability promise.
package anomalyview
