package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/store"
	"github.com/astraguard/astraguard/internal/store/storeprom"
)

// registerSeriesMetrics exposes the series table's live count and
// evictions (under the service's definition, storeprom), read at scrape
// time.
func registerSeriesMetrics(reg prometheus.Registerer, t *store.Table[model.Detector]) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "astraguard_model_series",
		Help: "Series the model server keeps state for.",
	}, func() float64 { return float64(t.Len()) }))
	storeprom.RegisterEvictions(reg, t)
}

// connectionRefusals returns the counter of connections refused beyond
// their client's --max-connections-per-client share, under the name and
// label the service counts them by.
func connectionRefusals(reg prometheus.Registerer) prometheus.Counter {
	return promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "astraguard_limit_rejections_total",
		Help: "Connections refused by a limit: connections, beyond their client's --max-connections-per-client.",
	}, []string{"limit"}).WithLabelValues("connections")
}
