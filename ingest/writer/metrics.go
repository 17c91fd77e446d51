package writer

import "github.com/prometheus/client_golang/prometheus"

// Writer states, as the value of zonewatch_writer_state.
const (
	stateWriting  = 0
	stateRetrying = 1
)

type metrics struct {
	inserted, duplicates, undecodable, failures, dead prometheus.Counter
	state                                             prometheus.Gauge
	batchSeconds                                      prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		inserted:     prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_rows_inserted_total", Help: "Events inserted into ClickHouse."}),
		duplicates:   prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_duplicates_skipped_total", Help: "Redelivered events already in ClickHouse, not inserted again."}),
		undecodable:  prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_undecodable_total", Help: "Messages on the events stream that were not events; kept as dead letters."}),
		failures:     prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_insert_failures_total", Help: "Inserts that ClickHouse refused or that failed; each is retried."}),
		dead:         prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_dead_letters_inserted_total", Help: "Dead letters inserted into ClickHouse."}),
		state:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "zonewatch_writer_state", Help: "0 = writing, 1 = retrying: ClickHouse is refusing inserts and JetStream holds the backlog."}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "zonewatch_writer_batch_seconds", Help: "Time to insert one batch.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
	}
	if reg != nil {
		reg.MustRegister(m.inserted, m.duplicates, m.undecodable, m.failures, m.dead, m.state, m.batchSeconds)
	}
	return m
}
