package pipeline

import "github.com/prometheus/client_golang/prometheus"

// Metrics are ingest's counters, per listener and format. They are registered on the registry the
// caller gives, never on a global one.
type Metrics struct {
	Received       *prometheus.CounterVec // lines received, by listener
	Bytes          *prometheus.CounterVec // bytes received, by listener
	Parsed         *prometheus.CounterVec // events made, by listener, format and parse status
	Failed         *prometheus.CounterVec // dead letters, by listener and reason
	Published      *prometheus.CounterVec // events acknowledged by JetStream, by stream
	PublishErrors  *prometheus.CounterVec // publish attempts that failed and were retried, by reason
	PublishLatency prometheus.Histogram
	Limited        *prometheus.CounterVec // limits that bit: by listener and limit (max_message_bytes, max_connections)
	UDPDropped     *prometheus.CounterVec // UDP datagrams lost before reading (kernel queue full), by listener
}

// NewMetrics makes and registers the metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_ingest_lines_received_total", Help: "Syslog messages or file lines received."}, []string{"listener"}),
		Bytes:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_ingest_bytes_received_total", Help: "Bytes of messages received."}, []string{"listener"}),
		Parsed:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_ingest_events_total", Help: "Events made, by format and parse status (ok, envelope = body not understood)."}, []string{"listener", "format", "status"}),
		Failed:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_ingest_dead_letters_total", Help: "Messages kept as dead letters, by reason."}, []string{"listener", "reason"}),
		Published:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_ingest_published_total", Help: "Events and dead letters acknowledged by JetStream (a message carries one or more events)."}, []string{"stream"}),
		PublishErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_ingest_publish_errors_total", Help: "Publishes that failed and were retried."}, []string{"reason"}),
		PublishLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "zonewatch_ingest_publish_latency_seconds", Help: "Time from publish to JetStream's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		Limited:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_ingest_limited_total", Help: "Times a listener limit bit."}, []string{"listener", "limit"}),
		UDPDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_ingest_udp_dropped_total", Help: "UDP datagrams the kernel dropped before zonewatch read them."}, []string{"listener"}),
	}
	if reg != nil {
		reg.MustRegister(m.Received, m.Bytes, m.Parsed, m.Failed, m.Published, m.PublishErrors, m.PublishLatency, m.Limited, m.UDPDropped)
	}
	return m
}
