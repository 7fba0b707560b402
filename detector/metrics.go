package detector

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the detector's Prometheus series. The names of the first four
// are the seed's contract (SPEC.md); the rest share its prefix and carry
// only bounded labels.
type metrics struct {
	detections      [3]prometheus.Counter  // by Source
	anomalies       [3]prometheus.Counter  // by Source
	latency         [3]prometheus.Observer // by Source
	fallbackBatches prometheus.Counter
	invalidOutputs  prometheus.Counter
	stateResets     prometheus.Counter
	pulledBack      prometheus.Counter
	fallbackSamples [numReasons]prometheus.Counter
	sampleErrors    [numErrorCodes]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, seriesCount func() float64) *metrics {
	f := promauto.With(reg)
	detections := f.NewCounterVec(prometheus.CounterOpts{
		Name: "astraguard_anomaly_detections_total",
		Help: "Samples scored, by the detector that scored them.",
	}, []string{"detector_type"})
	anomalies := f.NewCounterVec(prometheus.CounterOpts{
		Name: "astraguard_anomaly_anomalies_total",
		Help: "Samples flagged as anomalous, by the detector that flagged them.",
	}, []string{"detector_type"})
	latency := f.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "astraguard_anomaly_detection_latency_seconds",
		Help:    "Time one detector took on a batch it answered at least one sample of: the model call, or the heuristic's scoring.",
		Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 1},
	}, []string{"detector_type"})
	reasons := f.NewCounterVec(prometheus.CounterOpts{
		Name: "astraguard_anomaly_fallback_samples_total",
		Help: "Samples answered by the heuristic instead of the model, by reason.",
	}, []string{"reason"})
	errs := f.NewCounterVec(prometheus.CounterOpts{
		Name: "astraguard_anomaly_sample_errors_total",
		Help: "Samples that could not be scored, by error code.",
	}, []string{"code"})
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "astraguard_series",
		Help: "Series the detector currently tracks.",
	}, seriesCount)

	m := &metrics{
		fallbackBatches: f.NewCounter(prometheus.CounterOpts{
			Name: "astraguard_anomaly_model_fallback_activations_total",
			Help: "Batches in which the heuristic answered at least one sample instead of the model, for any reason (breaker, model error, timeout or invalid output, warm-up).",
		}),
		stateResets: f.NewCounter(prometheus.CounterOpts{
			Name: "astraguard_anomaly_model_state_resets_total",
			Help: "Series whose embedded model state was discarded because it produced a score outside [0, 1] or a non-finite band (a damaged state); the series learns again.",
		}),
		invalidOutputs: f.NewCounter(prometheus.CounterOpts{
			Name: "astraguard_anomaly_model_invalid_outputs_total",
			Help: "Model calls whose output was unusable (a score NaN, infinite or outside [0, 1]; outputs of the wrong name, datatype, shape or count); each is a model failure.",
		}),
		pulledBack: f.NewCounter(prometheus.CounterOpts{
			Name: "astraguard_series_watermarks_pulled_back_total",
			Help: "Series whose time-order watermark lay further ahead of the server clock than --max-clock-skew (restored, handed over, or set before the clock stepped back) and was pulled back to it.",
		}),
	}
	for _, s := range []Source{SourceModel, SourceHeuristic} {
		m.detections[s] = detections.WithLabelValues(s.String())
		m.anomalies[s] = anomalies.WithLabelValues(s.String())
		m.latency[s] = latency.WithLabelValues(s.String())
	}
	for r := ReasonBreakerOpen; r < numReasons; r++ {
		m.fallbackSamples[r] = reasons.WithLabelValues(r.String())
	}
	for c := ErrNotFinite; c < numErrorCodes; c++ {
		m.sampleErrors[c] = errs.WithLabelValues(errorCodeLabels[c])
	}
	return m
}

var errorCodeLabels = [numErrorCodes]string{"", "not_finite", "missing_series_id", "invalid_series_id", "invalid_timestamp", "length_mismatch", "out_of_order", "too_many_series"}
