// Package storeprom exports a store.Table's eviction counters as
// Prometheus metrics, read at scrape time, so the service's detector and
// the model server count evictions under one definition. The metric name
// is a contract (README, "Metrics"). Package store itself knows nothing
// of Prometheus.
//
// This package has no API stability promise.
package storeprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/internal/store"
)

// Evictions is what RegisterEvictions reads; *store.Table[V] satisfies
// it for any V. Evicted must be safe for concurrent use.
type Evictions interface {
	Evicted(store.Reason) uint64
}

// RegisterEvictions registers astraguard_series_evicted_total{reason},
// one counter per store.Reason (capacity, ttl), each reading t at scrape
// time. A nil reg registers nothing; a second registration on one
// registry panics (MustRegister), as for any metric.
func RegisterEvictions(reg prometheus.Registerer, t Evictions) {
	if reg == nil {
		return
	}
	for _, r := range []store.Reason{store.ReasonCapacity, store.ReasonTTL} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "astraguard_series_evicted_total",
			Help:        "Series evicted from the series table, by reason: capacity (a new series arrived at a full table) or ttl (idle past --series-ttl).",
			ConstLabels: prometheus.Labels{"reason": r.String()},
		}, func() float64 { return float64(t.Evicted(r)) }))
	}
}
