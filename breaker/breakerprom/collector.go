package breakerprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/breaker"
)

var _ prometheus.Collector = (*Collector)(nil)

// Collector is a prometheus.Collector over every breaker in a Registry,
// including breakers created after it.
type Collector struct {
	reg *breaker.Registry

	state, failures, successes, trips, recoveries *prometheus.Desc
	failureRatio, openSeconds                     *prometheus.Desc
	rejected, ignored, forced                     *prometheus.Desc
}

// NewCollector returns a Collector over reg. Register it with the
// application's registry, e.g. promReg.MustRegister(breakerprom.NewCollector(reg)).
func NewCollector(reg *breaker.Registry) *Collector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("astraguard_circuit_"+name, help, []string{"circuit_name"}, nil)
	}
	return &Collector{
		reg:          reg,
		state:        desc("state", "Circuit breaker state: 0=CLOSED, 1=OPEN, 2=HALF_OPEN."),
		failures:     desc("failures_total", "Calls through the circuit breaker classified as failures."),
		successes:    desc("successes_total", "Calls through the circuit breaker classified as successes."),
		trips:        desc("trips_total", "Times the circuit breaker opened."),
		recoveries:   desc("recoveries_total", "Times the circuit breaker closed again after opening."),
		failureRatio: desc("failure_ratio", "Failure ratio of the recent calls in the circuit breaker's window."),
		openSeconds:  desc("open_duration_seconds", "Time the circuit breaker has spent open, in seconds; only grows."),
		rejected:     desc("rejected_total", "Calls the circuit breaker refused."),
		ignored:      desc("ignored_total", "Call outcomes the circuit breaker ignored, such as caller cancellations."),
		forced:       desc("forced", "Operator override: 0=none, 1=forced open, 2=forced closed."),
	}
}

// Describe sends the descriptors of every metric the Collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.failures, c.successes, c.trips, c.recoveries,
		c.failureRatio, c.openSeconds, c.rejected, c.ignored, c.forced} {
		ch <- d
	}
}

// Collect sends the current values of every breaker in the registry.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.reg.Snapshot() {
		c.collectOne(ch, s)
	}
}

func (c *Collector) collectOne(ch chan<- prometheus.Metric, s breaker.Snapshot) {
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, s.Name)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, s.Name)
	}
	t := s.Totals
	gauge(c.state, float64(s.State))
	counter(c.failures, float64(t.Failures))
	counter(c.successes, float64(t.Successes))
	counter(c.trips, float64(t.Trips))
	counter(c.recoveries, float64(t.Recoveries))
	gauge(c.failureRatio, ratio(s.Window))
	gauge(c.openSeconds, s.OpenDuration.Seconds())
	counter(c.rejected, float64(t.Rejected))
	counter(c.ignored, float64(t.Ignored))
	gauge(c.forced, float64(s.Forced))
}

func ratio(w breaker.WindowCounts) float64 {
	if w.Calls == 0 {
		return 0
	}
	return float64(w.Failures) / float64(w.Calls)
}
