// Package checkpointprom exports a checkpoint.Keeper's Stats as Prometheus
// metrics, read at scrape time. The metric names are a contract (README,
// "State and checkpoints").
//
// This package has no API stability promise.
package checkpointprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/internal/checkpoint"
)

// Collector reads a Keeper's Stats at scrape time. Safe for concurrent use.
type Collector struct {
	k                                                *checkpoint.Keeper
	last, duration, size, saves, saveErrors, restore *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector over k.
func NewCollector(k *checkpoint.Keeper) *Collector {
	return &Collector{
		k: k,
		last: prometheus.NewDesc("astraguard_state_last_checkpoint_timestamp_seconds",
			"Unix time of the last successful state checkpoint; 0 before the first.", nil, nil),
		duration: prometheus.NewDesc("astraguard_state_checkpoint_duration_seconds",
			"How long the last successful state checkpoint took.", nil, nil),
		size: prometheus.NewDesc("astraguard_state_checkpoint_bytes",
			"Size of the last successful state checkpoint file.", nil, nil),
		saves: prometheus.NewDesc("astraguard_state_checkpoints_total",
			"Successful state checkpoints.", nil, nil),
		saveErrors: prometheus.NewDesc("astraguard_state_checkpoint_errors_total",
			"Failed state checkpoints; the previous snapshot stays in place.", nil, nil),
		restore: prometheus.NewDesc("astraguard_state_restore_errors_total",
			"Snapshots refused at start, by reason (unreadable, truncated, corrupt, incompatible, invalid, oversized, not_regular); each was set aside and the process started fresh.",
			[]string{"reason"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.last, c.duration, c.size, c.saves, c.saveErrors, c.restore} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.k.Stats()
	last := 0.0
	if !st.LastSave.IsZero() {
		last = float64(st.LastSave.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, last)
	ch <- prometheus.MustNewConstMetric(c.duration, prometheus.GaugeValue, st.LastDuration.Seconds())
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(st.LastBytes))
	ch <- prometheus.MustNewConstMetric(c.saves, prometheus.CounterValue, float64(st.Saves))
	ch <- prometheus.MustNewConstMetric(c.saveErrors, prometheus.CounterValue, float64(st.SaveErrors))
	for _, r := range checkpoint.Reasons {
		ch <- prometheus.MustNewConstMetric(c.restore, prometheus.CounterValue, float64(st.RestoreErrors[r]), r)
	}
}

// IndexCollector reads a handover Index's Stats at scrape time. Safe for
// concurrent use.
type IndexCollector struct {
	x                                                *checkpoint.Index
	adopted, indexed, bytes, errors, setAside, scans *prometheus.Desc
}

var _ prometheus.Collector = (*IndexCollector)(nil)

// NewIndexCollector returns a collector over x.
func NewIndexCollector(x *checkpoint.Index) *IndexCollector {
	return &IndexCollector{
		x: x,
		adopted: prometheus.NewDesc("astraguard_state_handover_series_adopted_total",
			"Series that started from the state another replica handed over (drained or checkpointed) instead of cold; a record that did not decode is not counted here but in astraguard_state_handover_errors_total{reason=\"invalid\"}.", nil, nil),
		indexed: prometheus.NewDesc("astraguard_state_handover_series_indexed",
			"Series in other replicas' handover snapshots, held for adoption and not adopted here (yet).", nil, nil),
		bytes: prometheus.NewDesc("astraguard_state_handover_index_bytes",
			"Bytes of series ids and state held by the handover index (bounded by --max-series records).", nil, nil),
		errors: prometheus.NewDesc("astraguard_state_handover_errors_total",
			"Handover snapshots of other replicas refused, by reason (as astraguard_state_restore_errors_total), and single series records refused (reason invalid); their series start cold.",
			[]string{"reason"}, nil),
		setAside: prometheus.NewDesc("astraguard_state_handover_files_set_aside_total",
			"Refused handover snapshots this replica renamed aside (<file>.<reason>-<time>), so that no replica reads them again.", nil, nil),
		scans: prometheus.NewDesc("astraguard_state_handover_scans_total",
			"Scans of the handover directory completed (one every --checkpoint-interval).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *IndexCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.adopted, c.indexed, c.bytes, c.errors, c.setAside, c.scans} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *IndexCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.x.Stats()
	ch <- prometheus.MustNewConstMetric(c.adopted, prometheus.CounterValue, float64(st.Adopted))
	ch <- prometheus.MustNewConstMetric(c.indexed, prometheus.GaugeValue, float64(st.Indexed))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(c.setAside, prometheus.CounterValue, float64(st.SetAside))
	ch <- prometheus.MustNewConstMetric(c.scans, prometheus.CounterValue, float64(st.Scans))
	for _, r := range checkpoint.Reasons {
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(st.Errors[r]), r)
	}
}
