package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// DeadLetter is a message zonewatch could not make sense of, kept with the reason.
type DeadLetter struct {
	ID       string    `json:"id"`
	Received time.Time `json:"received"`
	Listener string    `json:"listener"`
	Peer     string    `json:"peer,omitempty"`
	Reason   string    `json:"reason"`
	Raw      string    `json:"raw"`
}

// PublisherOptions configure a Publisher.
type PublisherOptions struct {
	JS jetstream.JetStream
	// MaxInFlight bounds publishes awaiting JetStream's acknowledgement; beyond it Publish blocks, which
	// slows TCP senders down instead of dropping their lines.
	MaxInFlight int
	Metrics     *Metrics
	Logger      *slog.Logger
}

// Publisher publishes events and dead letters asynchronously, retrying until JetStream takes them.
type Publisher struct {
	js      jetstream.JetStream
	metrics *Metrics
	log     *slog.Logger
	slots   chan struct{}
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// NewPublisher makes a Publisher.
func NewPublisher(o PublisherOptions) *Publisher {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 4096
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Publisher{js: o.JS, metrics: o.Metrics, log: o.Logger, slots: make(chan struct{}, o.MaxInFlight), ctx: ctx, cancel: cancel}
}

// Event publishes an event on zw.events.<source zone>.<source type>, with its id as the JetStream message
// id so that a retried publish is stored once.
func (p *Publisher) Event(ctx context.Context, e *event.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	zoneTok := e.Source.Zone
	if zoneTok == "" {
		zoneTok = e.Observer.Zone
	}
	return p.publish(ctx, natsbus.EventSubject(zoneTok, e.Meta.Module), e.ID, b, natsbus.StreamEvents)
}

// Dead publishes a dead letter on zw.dead.<listener>.
func (p *Publisher) Dead(ctx context.Context, d *DeadLetter) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	return p.publish(ctx, natsbus.DeadSubject(d.Listener), d.ID, b, natsbus.StreamDead)
}

func (p *Publisher) publish(ctx context.Context, subject, id string, data []byte, stream string) error {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ctx.Done():
		return fmt.Errorf("publisher stopped: %s not published", subject)
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, id)
	p.wg.Add(1)
	go p.deliver(msg, stream)
	return nil
}

// deliver publishes one message until JetStream acknowledges it. Retrying with the same message id is
// safe: JetStream drops duplicates within the stream's duplicate window.
func (p *Publisher) deliver(msg *nats.Msg, stream string) {
	defer func() { <-p.slots; p.wg.Done() }()
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		start := time.Now()
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		_, err := p.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			p.metrics.Published.WithLabelValues(stream).Inc()
			p.metrics.PublishLatency.Observe(time.Since(start).Seconds())
			return
		}
		reason := "error"
		if natsbus.IsStreamFull(err) {
			reason = "stream_full"
		}
		p.metrics.PublishErrors.WithLabelValues(reason).Inc()
		if attempt%20 == 0 {
			p.log.Warn("publish to JetStream failed; retrying", "subject", msg.Subject, "reason", reason, "err", err, "attempt", attempt+1)
		}
		select {
		case <-time.After(backoff):
		case <-p.ctx.Done():
			p.log.Error("publish abandoned at shutdown: message not stored", "subject", msg.Subject)
			return
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// Flush waits until every accepted message is acknowledged, or ctx ends; then pending ones are abandoned
// (and logged).
func (p *Publisher) Flush(ctx context.Context) error {
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return fmt.Errorf("flush publishes: %w", ctx.Err())
	}
}
