package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/protolimit"
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

// limitRejections returns the counters of connections refused beyond
// their client's --max-connections-per-client share and of streams refused
// beyond connlimit.StreamBound, under the name and labels the service
// counts them by.
func limitRejections(reg prometheus.Registerer) (connections, otherStreams prometheus.Counter) {
	vec := promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "astraguard_limit_rejections_total",
		Help: "Connections or streams refused by a limit: connections, beyond their client's --max-connections-per-client; other_streams, health Watch or reflection streams beyond 4096 in total or 64 per client.",
	}, []string{"limit"})
	return vec.WithLabelValues("connections"), vec.WithLabelValues("other_streams")
}

// registerDecodingMetric exposes what the requests being decoded hold of
// b, under the service's name for its own.
func registerDecodingMetric(reg prometheus.Registerer, b *protolimit.Budget) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "astraguard_decoding_bytes",
		Help: "Estimated decoded size of the requests being decoded at once (all services), at most 128 MiB, or one request alone.",
	}, func() float64 { return float64(b.Held()) }))
}
