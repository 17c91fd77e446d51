package pipeline

import (
	"context"
	"net/netip"
)

// Ingestor joins normalising and publishing: it makes one Sink per connection.
type Ingestor struct {
	opts      NormaliserOptions
	publisher *Publisher
	metrics   *Metrics
}

// NewIngestor makes an Ingestor.
func NewIngestor(n NormaliserOptions, p *Publisher, m *Metrics) *Ingestor {
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Ingestor{opts: n, publisher: p, metrics: m}
}

// Sink returns a sink for one connection of a listener.
func (in *Ingestor) Sink(listener string) *ConnSink {
	return &ConnSink{in: in, listener: listener, norm: NewNormaliser(in.opts)}
}

// ConnSink normalises and publishes the messages of one connection.
type ConnSink struct {
	in       *Ingestor
	listener string
	norm     *Normaliser
}

// Message handles one message: an event, or a dead letter when it is not syslog or was cut.
func (s *ConnSink) Message(ctx context.Context, peer netip.Addr, msg []byte, tooLong bool) error {
	e, err := s.norm.Syslog(s.listener, peer, msg)
	if err != nil || tooLong {
		reason := "too_long"
		if err != nil {
			reason = "not_syslog"
		}
		s.in.metrics.Failed.WithLabelValues(s.listener, reason).Inc()
		d := &DeadLetter{ID: e.ID, Received: e.Meta.Ingested, Listener: s.listener, Reason: deadReason(err, tooLong), Raw: string(msg)}
		if peer.IsValid() {
			d.Peer = peer.String()
		}
		return s.in.publisher.Dead(ctx, d)
	}
	s.in.metrics.Parsed.WithLabelValues(s.listener, e.Meta.Module, e.Log.ParseStatus).Inc()
	return s.in.publisher.Event(ctx, &e)
}

func deadReason(err error, tooLong bool) string {
	const cut = "message longer than max_message_bytes (cut)"
	switch {
	case err != nil && tooLong:
		return cut + "; " + err.Error()
	case err != nil:
		return err.Error()
	}
	return cut
}
