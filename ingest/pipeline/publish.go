package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
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

// DefaultMaxInFlight is the default bound on publishes (messages) awaiting JetStream's acknowledgement.
// The JetStream context's own async limit (jetstream.WithPublishAsyncMaxPending) must be above it.
const DefaultMaxInFlight = 8192

// Batching defaults: see PublisherOptions.
const (
	DefaultMaxBatchEvents = 256
	DefaultMaxBatchBytes  = 256 << 10 // well under NATS's default max_payload of 1 MiB
	DefaultLinger         = 5 * time.Millisecond
)

// PublisherOptions configure a Publisher.
type PublisherOptions struct {
	JS jetstream.JetStream
	// MaxInFlight bounds publishes (messages) awaiting JetStream's acknowledgement; beyond it Event
	// blocks, which slows TCP senders down instead of dropping their lines.
	MaxInFlight int
	// MaxBatchEvents and MaxBatchBytes bound one message's events: a subject's buffer is published once
	// it holds that many events or bytes. Defaults 256 and 256 KiB; MaxBatchEvents 1 publishes every
	// event alone.
	MaxBatchEvents int
	MaxBatchBytes  int
	// Linger is the longest an event waits in a buffer for others; default 5ms.
	Linger  time.Duration
	Metrics *Metrics
	Logger  *slog.Logger
}

// Publisher publishes events and dead letters asynchronously, retrying until JetStream takes them.
//
// # Wire format
//
// Events are published in batches: a message on zw.events.<source zone>.<source type> holds one or more
// events as NDJSON, each event's JSON (encodeEvent) followed by '\n'. JSON strings escape newlines, so
// '\n' only separates events, and a message with one event is exactly the event's JSON: consumers split
// with event.SplitBatch. Storing one message per event was half of ingest's CPU in the embedded
// nats-server (a write per message); a batch costs one. Each subject has its own buffer, published when
// it reaches MaxBatchEvents or MaxBatchBytes, when it is older than Linger, and on Wait and Close. The
// message id (Nats-Msg-Id) is the first event's id, "+", and the number of events, so a retried publish
// of the same batch is stored once. Dead letters are one per message, with their id as message id.
//
// Publishes are pipelined (many in flight on one connection); one collector goroutine reads their
// acknowledgements in order and re-publishes what failed, so the in-flight bound is also the memory bound.
type Publisher struct {
	js      jetstream.JetStream
	o       PublisherOptions
	metrics *Metrics
	log     *slog.Logger
	pending chan pending
	wg      inflight // messages published and not yet acknowledged
	ctx     context.Context
	cancel  context.CancelFunc

	// sending is held from taking a full batch out of its buffer until it is handed to the collector, so
	// that a subject's batches reach JetStream in the order they were filled: without it a batch closed
	// by add and the next one closed by the flusher could overtake each other while the collector is
	// busy retrying. Taken before mu.
	sending  sync.Mutex
	mu       sync.Mutex
	buffers  map[string]*eventBatch // by subject
	seq      uint64                 // buffers started so far
	lastSize map[string]int         // bytes of each subject's last batch
	encoders []chan queuedEvent     // by encoderOf(subject)
	queued   inflight               // events given to Event (or encoded) and not yet in a batch
	closed   bool
	flusher  chan struct{} // closed when the flusher has stopped
	holding  bool          // a publish failed: new messages go to the collector, in order (see collect)
	held     int           // messages held or being retried by the collector
}

// eventBatch is one subject's events waiting to be published together.
type eventBatch struct {
	data    []byte
	firstID string
	n       int
	seq     uint64 // when its first event came, among all buffers
}

type pending struct {
	fut    jetstream.PubAckFuture // nil for a held message: the collector publishes it
	first  error                  // of a held message, the error of its asynchronous attempt, if any
	msg    *nats.Msg
	stream string
	events int // events the message holds, for zonewatch_ingest_published_total
	start  time.Time
}

// NewPublisher makes a Publisher and starts its collector and flusher.
func NewPublisher(o PublisherOptions) *Publisher {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MaxBatchEvents <= 0 {
		o.MaxBatchEvents = DefaultMaxBatchEvents
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.Linger <= 0 {
		o.Linger = DefaultLinger
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Publisher{js: o.JS, o: o, metrics: o.Metrics, log: o.Logger, pending: make(chan pending, o.MaxInFlight), ctx: ctx, cancel: cancel,
		buffers: map[string]*eventBatch{}, lastSize: map[string]int{}, flusher: make(chan struct{})}
	for range max(2, runtime.GOMAXPROCS(0)) {
		q := make(chan queuedEvent, 1024)
		p.encoders = append(p.encoders, q)
		go p.encode(q)
	}
	go p.collect()
	go p.flushEvery(o.Linger)
	return p
}

// Event queues an event for the batch of zw.events.<source zone>.<source type>: it returns once the
// event (copied) is queued for its encoder, and blocks while the encoders' queues are full, which slows
// the sender down. Wait tells when it is stored. Several goroutines may call it at once.
func (p *Publisher) Event(ctx context.Context, e *event.Event) error {
	subject := eventSubject(e)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("publisher stopped: event %s not published", e.ID)
	}
	p.queued.add()
	p.mu.Unlock()
	select {
	case p.encoders[encoderOf(subject, len(p.encoders))] <- queuedEvent{subject: subject, e: *e}:
		return nil
	case <-ctx.Done():
		p.queued.done()
		return ctx.Err()
	case <-p.ctx.Done():
		p.queued.done()
		return fmt.Errorf("publisher stopped: event %s not published", e.ID)
	}
}

// eventSubject is zw.events.<source zone, else the observer's>.<source type>.
func eventSubject(e *event.Event) string {
	zoneTok := e.Source.Zone
	if zoneTok == "" {
		zoneTok = e.Observer.Zone
	}
	return natsbus.EventSubject(zoneTok, e.Meta.Module)
}

// encoded adds an event its caller has encoded (event.AppendJSON) to its subject's batch, publishing
// the batch when it is full; data is copied. The caller's order is the order on the subject. It blocks
// while too many publishes are in flight, which slows the sender down. Connections' emitters use it:
// their workers encode beside the normalising, so an event is not copied to an encoder's queue.
func (p *Publisher) encoded(subject, id string, data []byte) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("publisher stopped: event %s not published", id)
	}
	p.queued.add() // Close and Wait flush only after it is in its batch
	p.mu.Unlock()
	defer p.queued.done()
	return p.add(subject, id, data)
}

// queuedEvent is an event waiting for its encoder.
type queuedEvent struct {
	subject string
	e       event.Event
}

// encoderOf picks a subject's encoder, always the same one, so that a subject's events keep their order.
func encoderOf(subject string, n int) int {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(subject); i++ {
		h = (h ^ uint32(subject[i])) * 16777619
	}
	return int(h % uint32(n))
}

// encode encodes the events of its queue and adds them to their subjects' batches. Encoding
// was a quarter of a connection goroutine's time; here it runs beside the connection's parsing.
func (p *Publisher) encode(queue <-chan queuedEvent) {
	var scratch []byte // add copies an event's bytes into its batch, so one buffer serves every event
	for {
		select {
		case q := <-queue:
			b, err := event.AppendJSON(scratch[:0], &q.e)
			scratch = b
			if err != nil {
				// Not expected for an event struct; counted and logged with the event's id and raw text.
				p.metrics.PublishErrors.WithLabelValues("encode").Inc()
				p.log.Error("event not published: it does not encode to JSON", "id", q.e.ID, "raw", q.e.Meta.Original, "err", err)
			} else if err := p.add(q.subject, q.e.ID, b); err != nil && p.ctx.Err() == nil {
				p.log.Error("publish of a batch of events failed", "subject", q.subject, "err", err)
			}
			p.queued.done()
		case <-p.ctx.Done():
			return
		}
	}
}

// add appends one encoded event to its subject's batch and publishes the batch when it is full.
func (p *Publisher) add(subject, id string, b []byte) error {
	p.sending.Lock() // batches are detached and handed on in one order (see sending)
	defer p.sending.Unlock()
	p.mu.Lock()
	buf := p.buffers[subject]
	if buf == nil {
		buf = &eventBatch{}
		p.buffers[subject] = buf
	}
	var full *eventBatch
	if buf.n > 0 && len(buf.data)+len(b)+1 > p.o.MaxBatchBytes {
		full = p.detach(subject) // the new event would not fit: send what is there first
		buf = &eventBatch{}
		p.buffers[subject] = buf
	}
	if buf.n == 0 {
		buf.firstID = id
		p.seq++
		buf.seq = p.seq
		// Sized on the subject's last batch: a batch closed by Linger is often far below MaxBatchBytes,
		// and clearing 256 KiB for each was a tenth of the connection goroutine's time.
		last := p.lastSize[subject]
		buf.data = make([]byte, 0, min(p.o.MaxBatchBytes+len(b)+1, max(4096, last+last/4)))
	}
	buf.data = append(append(buf.data, b...), '\n')
	buf.n++
	var now *eventBatch
	if buf.n >= p.o.MaxBatchEvents || len(buf.data) >= p.o.MaxBatchBytes {
		now = p.detach(subject)
	}
	p.mu.Unlock()
	if full != nil {
		if err := p.sendBatch(p.ctx, subject, full); err != nil {
			return err
		}
	}
	if now != nil {
		return p.sendBatch(p.ctx, subject, now)
	}
	return nil
}

// detach takes a subject's buffer out of the map; p.mu is held.
func (p *Publisher) detach(subject string) *eventBatch {
	b := p.buffers[subject]
	delete(p.buffers, subject)
	p.lastSize[subject] = len(b.data)
	return b
}

// sendBatch publishes one batch. Event passes the publisher's own context, not its caller's: the batch
// holds other callers' events too, so one connection's end must not drop them.
func (p *Publisher) sendBatch(ctx context.Context, subject string, b *eventBatch) error {
	return p.publish(ctx, subject, b.firstID+"+"+strconv.Itoa(b.n), b.data, natsbus.StreamEvents, b.n)
}

// flush publishes every buffered event, the buffers in the order their first events came: events of
// different subjects keep their order across flushes (within one Linger they may mix).
func (p *Publisher) flush(ctx context.Context) error {
	type subjectBatch struct {
		subject string
		b       *eventBatch
	}
	p.sending.Lock()
	defer p.sending.Unlock()
	p.mu.Lock()
	bufs := make([]subjectBatch, 0, len(p.buffers))
	for subject, b := range p.buffers {
		if b.n > 0 {
			bufs = append(bufs, subjectBatch{subject, b})
			p.lastSize[subject] = len(b.data)
		}
	}
	clear(p.buffers)
	p.mu.Unlock()
	slices.SortFunc(bufs, func(a, b subjectBatch) int { return cmp.Compare(a.b.seq, b.b.seq) })
	var errs []error
	for _, sb := range bufs {
		if err := p.sendBatch(ctx, sb.subject, sb.b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// flushEvery publishes the buffers every linger, so that no event waits longer than that for others.
func (p *Publisher) flushEvery(linger time.Duration) {
	defer close(p.flusher)
	t := time.NewTicker(linger)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := p.flush(p.ctx); err != nil && p.ctx.Err() == nil {
				p.log.Error("publish of buffered events failed", "err", err)
			}
		case <-p.ctx.Done():
			return
		}
	}
}

// Dead publishes a dead letter on zw.dead.<listener>.
func (p *Publisher) Dead(ctx context.Context, d *DeadLetter) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	return p.publish(ctx, natsbus.DeadSubject(d.Listener), d.ID, b, natsbus.StreamDead, 1)
}

func (p *Publisher) publish(ctx context.Context, subject, id string, data []byte, stream string, events int) error {
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, id)
	p.wg.add()
	pm := pending{msg: msg, stream: stream, events: events}
	p.mu.Lock()
	held := p.holding
	if held {
		p.held++
	}
	p.mu.Unlock()
	if !held {
		fut, err := p.js.PublishMsgAsync(msg)
		if err != nil {
			// Too many stalled or not connected: from here on the collector publishes, in order.
			p.mu.Lock()
			p.holding = true
			p.held++
			p.mu.Unlock()
			pm.first = err
		} else {
			pm.fut, pm.start = fut, time.Now()
		}
	}
	select {
	case p.pending <- pm:
		return nil
	case <-ctx.Done():
		p.unqueue(pm)
		return ctx.Err()
	case <-p.ctx.Done():
		p.unqueue(pm)
		return fmt.Errorf("publisher stopped: %s not published", subject)
	}
}

// unqueue forgets a message that publish could not hand to the collector.
func (p *Publisher) unqueue(pm pending) {
	if pm.fut == nil {
		p.release()
	}
	p.wg.done()
}

// release counts a held message done; once none is left, publishing is asynchronous again.
func (p *Publisher) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held--; p.held == 0 {
		p.holding = false
	}
}

// collect reads acknowledgements in publish order, and publishes the held messages.
//
// A publish JetStream refused (a full stream, an outage) is retried here until it is stored, and from
// the moment one fails every new message is held: the collector publishes them after the failed one,
// in order, until it has caught up. Were they published by their callers meanwhile, a message retried
// after a backoff would be stored after messages sent later, and a subject's events would be out of
// order. The held messages queued together are published together (asynchronously, their
// acknowledgements read in order), so that a busy ingest catches up at full speed once JetStream takes
// messages again. Messages already in flight when one failed are the exception: any of them that
// JetStream stored is not withdrawn.
func (p *Publisher) collect() {
	var next *pending // an asynchronous message taken from the queue while gathering held ones
	for {
		var pm pending
		if next != nil {
			pm, next = *next, nil
		} else {
			select {
			case pm = <-p.pending:
			case <-p.ctx.Done():
				return
			}
		}
		if pm.fut == nil {
			next = p.publishHeld(pm)
			continue
		}
		p.await(pm, false)
	}
}

// await reads one asynchronous publish's acknowledgement, and retries the message until it is stored
// if JetStream refused it. held tells that it was a held message, to be released once stored.
func (p *Publisher) await(pm pending, held bool) {
	select {
	case <-pm.fut.Ok():
		p.metrics.Published.WithLabelValues(pm.stream).Add(float64(pm.events))
		p.metrics.PublishLatency.Observe(time.Since(pm.start).Seconds())
		p.wg.done()
	case err := <-pm.fut.Err():
		if !held {
			p.mu.Lock()
			p.holding = true
			p.held++ // this one, so that holding lasts until it is stored
			p.mu.Unlock()
			held = true
		}
		p.retry(pm.msg, pm.stream, pm.events, err)
	}
	if held {
		p.release()
	}
}

// publishHeld publishes a held message and the held ones queued right after it, in order: together and
// asynchronously while JetStream takes them, one by one with retries from the first it refuses. It
// returns the asynchronous message that ended the run, if it took one from the queue.
func (p *Publisher) publishHeld(first pending) *pending {
	run := []pending{first}
	var after *pending
gather:
	for len(run) < p.o.MaxInFlight {
		select {
		case q := <-p.pending:
			if q.fut != nil {
				after = &q
				break gather
			}
			run = append(run, q)
		default:
			break gather
		}
	}
	oneByOne := false // once one cannot go asynchronously, those after it must wait for it
	for i := range run {
		m := &run[i]
		if oneByOne || m.first != nil {
			oneByOne = true
			continue
		}
		fut, err := p.js.PublishMsgAsync(m.msg)
		if err != nil {
			m.first, oneByOne = err, true
			continue
		}
		m.fut, m.start = fut, time.Now()
	}
	for _, m := range run {
		if m.fut != nil {
			p.await(m, true)
			continue
		}
		p.retry(m.msg, m.stream, m.events, m.first)
		p.release()
	}
	return after
}

// retry publishes one message (of events events) synchronously until JetStream acknowledges it; first
// is the error of an earlier attempt (then it waits a backoff before trying), or nil. Retrying with the
// same message id is safe: JetStream drops duplicates within the stream's duplicate window.
func (p *Publisher) retry(msg *nats.Msg, stream string, events int, first error) {
	defer p.wg.done()
	err := first
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if err != nil {
			reason := "error"
			if natsbus.IsStreamFull(err) {
				reason = "stream_full"
			}
			p.metrics.PublishErrors.WithLabelValues(reason).Inc()
			if attempt%20 == 1 {
				p.log.Warn("publish to JetStream failed; retrying", "subject", msg.Subject, "reason", reason, "err", err, "attempt", attempt)
			}
			select {
			case <-time.After(backoff):
			case <-p.ctx.Done():
				p.log.Error("publish abandoned at shutdown: message not stored", "subject", msg.Subject)
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		_, err = p.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			p.metrics.Published.WithLabelValues(stream).Add(float64(events))
			p.metrics.PublishLatency.Observe(time.Since(start).Seconds())
			return
		}
		if p.ctx.Err() != nil {
			p.log.Error("publish abandoned at shutdown: message not stored", "subject", msg.Subject)
			return
		}
	}
}

// Wait publishes the buffered events, then returns once every message published so far is
// acknowledged (or ctx ends). File inputs use it to save their offset only after what comes before it is
// stored.
func (p *Publisher) Wait(ctx context.Context) error {
	if err := p.queued.wait(ctx); err != nil {
		return err
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	return p.waitAcks(ctx)
}

func (p *Publisher) waitAcks(ctx context.Context) error { return p.wg.wait(ctx) }

// inflight counts work in progress and tells when none is left. Unlike sync.WaitGroup it may be waited
// on while work is being added (connections keep publishing while a file input waits for its lines to
// be stored), which a WaitGroup forbids: it panics when an Add comes between the count reaching zero
// and its waiter waking.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n reaches 0; made by a waiter
}

func (c *inflight) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *inflight) done() {
	c.mu.Lock()
	if c.n--; c.n == 0 && c.zero != nil {
		close(c.zero)
		c.zero = nil
	}
	c.mu.Unlock()
}

// wait returns once the count has been zero since wait was called, or ctx ends.
func (c *inflight) wait(ctx context.Context) error {
	c.mu.Lock()
	if c.n == 0 {
		c.mu.Unlock()
		return nil
	}
	if c.zero == nil {
		c.zero = make(chan struct{})
	}
	zero := c.zero
	c.mu.Unlock()
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close publishes the buffered events, refuses new ones, waits until every accepted message is
// acknowledged, or ctx ends, then stops the publisher; what is still pending then is abandoned, and
// logged.
func (p *Publisher) Close(ctx context.Context) error {
	defer p.cancel()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	if err := p.queued.wait(ctx); err != nil {
		return fmt.Errorf("encode queued events: %w", err)
	}
	err := p.flush(ctx)
	if err2 := p.waitAcks(ctx); err2 != nil {
		return fmt.Errorf("flush publishes: %w", err2)
	}
	return err
}

// encodeEvent gives an event's JSON form on the bus with event.AppendJSON: the same bytes as
// encoding/json (checked by TestEncodeEventMatchesEncodingJSON) without reflection. Encoding with
// go-json was a quarter of ingest's CPU once parsing was spread over the cores.
func encodeEvent(e *event.Event) ([]byte, error) { return event.AppendJSON(nil, e) }
