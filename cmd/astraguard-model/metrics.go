package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/model"
	"github.com/astraguard/astraguard/store"
)

// registerSeriesMetrics exposes the series table's live count and
// evictions, read at scrape time.
func registerSeriesMetrics(reg prometheus.Registerer, t *store.Table[model.Detector]) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "astraguard_model_series",
		Help: "Series the model server keeps state for.",
	}, func() float64 { return float64(t.Len()) }))
	for _, r := range []store.Reason{store.ReasonCapacity, store.ReasonTTL} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "astraguard_series_evicted_total",
			Help:        "Series evicted from the series table, by reason: capacity (a new series arrived at a full table) or ttl (idle past --series-ttl).",
			ConstLabels: prometheus.Labels{"reason": r.String()},
		}, func() float64 { return float64(t.Evicted(r)) }))
	}
}
