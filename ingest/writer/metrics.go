package writer

import "github.com/prometheus/client_golang/prometheus"

// Writer states, as the value of zonewatch_writer_state.
const (
	stateWriting  = 0
	stateRetrying = 1
)

type metrics struct {
	inserted, duplicates, undecodable, failures, dead, lookups prometheus.Counter
	state                                                      prometheus.Gauge
	batchSeconds, batchRows, batchEvents, lag                  prometheus.Histogram
	streamBytes, streamMaxBytes, streamFill, streamNearLimit   *prometheus.GaugeVec
	backlog                                                    *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		inserted:    prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_rows_inserted_total", Help: "Events inserted into ClickHouse."}),
		duplicates:  prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_duplicates_skipped_total", Help: "Redelivered events already in ClickHouse, not inserted again."}),
		undecodable: prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_undecodable_total", Help: "Messages on the events stream that were not events; kept as dead letters."}),
		failures:    prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_insert_failures_total", Help: "Inserts that ClickHouse refused or that failed; each is retried."}),
		dead:        prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_dead_letters_inserted_total", Help: "Dead letters inserted into ClickHouse."}),
		lookups:     prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_writer_id_lookups_total", Help: "Event ids looked up in ClickHouse because they might be stored already (redelivered, or retried after a failed insert)."}),
		state:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "zonewatch_writer_state", Help: "0 = writing, 1 = retrying: ClickHouse is refusing inserts and JetStream holds the backlog."}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "zonewatch_writer_batch_seconds", Help: "Time to insert one batch (the successful attempt).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "zonewatch_writer_batch_messages", Help: "Messages per batch written.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "zonewatch_writer_batch_events", Help: "Events per batch written (a message carries one or more).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "zonewatch_writer_lag_seconds", Help: "From ingest (event.ingested) to the event being stored in ClickHouse.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 16)}),
		streamBytes:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "zonewatch_jetstream_stream_bytes", Help: "Bytes a JetStream stream holds."}, []string{"stream"}),
		streamMaxBytes:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "zonewatch_jetstream_stream_max_bytes", Help: "The stream's max_bytes limit (-1: none)."}, []string{"stream"}),
		streamFill:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "zonewatch_jetstream_stream_fill_ratio", Help: "Fill of the stream's tightest limit (max_bytes or max_msgs), 0..1; at 1 new messages are refused."}, []string{"stream"}),
		streamNearLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "zonewatch_jetstream_stream_near_limit", Help: "1 while the stream is fuller than the warning ratio (default 0.8)."}, []string{"stream"}),
		backlog:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "zonewatch_writer_backlog_messages", Help: "Messages the writer's durable consumer has not yet acknowledged (pending + in flight)."}, []string{"stream"}),
	}
	if reg != nil {
		reg.MustRegister(m.inserted, m.duplicates, m.undecodable, m.failures, m.dead, m.lookups, m.state,
			m.batchSeconds, m.batchRows, m.batchEvents, m.lag, m.streamBytes, m.streamMaxBytes, m.streamFill, m.streamNearLimit, m.backlog)
	}
	return m
}
