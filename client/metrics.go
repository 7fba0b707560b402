package client

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Stats counts what a client did, over its life.
type Stats struct {
	StreamsOpened   int64 // Detect streams opened, re-opens included
	StreamsReopened int64 // streams opened again after their stream failed
	RequestsResent  int64 // requests sent again on a new stream
	SamplesResent   int64 // the samples (series values, frame channels) in those
	Duplicates      int64 // responses dropped: their request was not pending
}

// metrics are labelled by replica, the peer address of the stream: at
// most one value per replica of the current set. A replica that leaves
// the set is forgotten, so a client that lives through many rollouts
// (each a new set of pod addresses) does not keep a series per replica it
// ever reached.
type metrics struct {
	openedVec, reopenedVec, resentVec, dupsVec *prometheus.CounterVec
	s                                          struct{ opened, reopened, resent, samples, dups atomic.Int64 }
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	vec := func(name, help string) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"replica"})
	}
	return &metrics{
		openedVec:   vec("astraguard_client_streams_opened_total", "Detect streams the client opened, by the replica they landed on."),
		reopenedVec: vec("astraguard_client_streams_reopened_total", "Detect streams opened again after a failure, by the replica the new stream landed on."),
		resentVec:   vec("astraguard_client_requests_resent_total", "Requests sent again after their stream failed, by the replica they were re-sent to."),
		dupsVec:     vec("astraguard_client_duplicate_responses_total", "Responses dropped because their request was already answered, by replica."),
	}
}

func (m *metrics) streamOpened(replica string, reopen bool) {
	m.openedVec.WithLabelValues(replica).Inc()
	m.s.opened.Add(1)
	if reopen {
		m.reopenedVec.WithLabelValues(replica).Inc()
		m.s.reopened.Add(1)
	}
}

func (m *metrics) resentCall(replica string, samples int) {
	m.resentVec.WithLabelValues(replica).Inc()
	m.s.resent.Add(1)
	m.s.samples.Add(int64(samples))
}

func (m *metrics) duplicate(replica string) {
	m.dupsVec.WithLabelValues(replica).Inc()
	m.s.dups.Add(1)
}

// forget deletes the series of replicas that left the set.
func (m *metrics) forget(replicas []string) {
	for _, r := range replicas {
		for _, v := range []*prometheus.CounterVec{m.openedVec, m.reopenedVec, m.resentVec, m.dupsVec} {
			v.DeleteLabelValues(r)
		}
	}
}

func (m *metrics) stats() Stats {
	return Stats{
		StreamsOpened: m.s.opened.Load(), StreamsReopened: m.s.reopened.Load(),
		RequestsResent: m.s.resent.Load(), SamplesResent: m.s.samples.Load(), Duplicates: m.s.dups.Load(),
	}
}
