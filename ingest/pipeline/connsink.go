package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/zonewatch/zonewatch/internal/event"
)

// ConnSink normalises and publishes the messages of one connection (or of a UDP socket). Its methods are
// called from one goroutine, the connection's; the normalising runs on the Ingestor's workers and the
// publishing on the sink's emitter, in the order the messages came.
type ConnSink struct {
	in       *Ingestor
	listener string
	cur      *lineBatch      // filling
	queue    chan *lineBatch // handed on, in arrival order; nil until the first batch
	emitted  chan struct{}   // closed when the emitter has published the last batch
	mu       sync.Mutex
	err      error // the first publish that failed; the connection should end
}

// lineBatch is a run of one connection's messages: copied out of the reader's buffer, normalised by one
// worker, then published by the emitter.
type lineBatch struct {
	buf     []byte // the messages back to back
	ends    []int  // where each message ends in buf
	peers   []netip.Addr
	tooLong []bool
	events  []event.Event
	errs    []error
	// The events' JSON, encoded by the worker (for the lines that are events, not dead letters).
	json     []byte
	jsonEnds []int
	subjects []string
	done     chan struct{} // closed once a worker has normalised every message
	skip     bool          // no worker took it (ctx ended): nothing to publish
}

func (b *lineBatch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]:b.ends[i]]
}

func (b *lineBatch) add(peer netip.Addr, msg []byte, tooLong bool) {
	b.buf = append(b.buf, msg...)
	b.ends = append(b.ends, len(b.buf))
	b.peers = append(b.peers, peer)
	b.tooLong = append(b.tooLong, tooLong)
}

func (b *lineBatch) normalise(n *Normaliser, listener string) {
	b.events = b.events[:len(b.ends)]
	b.errs = b.errs[:len(b.ends)]
	b.subjects = b.subjects[:0]
	for i := range b.ends {
		e := &b.events[i]
		b.errs[i] = n.SyslogInto(e, listener, b.peers[i], b.line(i))
		subject := ""
		if b.errs[i] == nil && !b.tooLong[i] {
			subject = eventSubject(e)
			var err error
			if b.json, err = event.AppendJSON(b.json, e); err != nil {
				subject = "" // not expected of an event; the emitter counts and logs it
				b.errs[i] = fmt.Errorf("%w: %w", errEncode, err)
			}
		}
		b.subjects = append(b.subjects, subject)
		b.jsonEnds = append(b.jsonEnds, len(b.json))
	}
}

// errEncode marks an event that does not encode to JSON.
var errEncode = errors.New("event does not encode to JSON")

// eventJSON is the encoded event of message i.
func (b *lineBatch) eventJSON(i int) []byte {
	start := 0
	if i > 0 {
		start = b.jsonEnds[i-1]
	}
	return b.json[start:b.jsonEnds[i]]
}

// reset empties a batch for reuse; the events were copied by the publisher.
func (b *lineBatch) reset() {
	clear(b.events[:cap(b.events)])
	clear(b.errs[:cap(b.errs)])
	clear(b.subjects)
	b.buf, b.ends, b.peers, b.tooLong = b.buf[:0], b.ends[:0], b.peers[:0], b.tooLong[:0]
	b.json, b.jsonEnds, b.subjects = b.json[:0], b.jsonEnds[:0], b.subjects[:0]
	b.done, b.skip = nil, false
}

// BatchSink returns a sink for one connection of a listener that spreads its messages over the workers.
// Its caller must call Flush when it has no message at hand and Close when the connection ends: until
// then, messages may be held for a batch (the listeners in ingest/listen do both).
func (in *Ingestor) BatchSink(listener string) *ConnSink {
	return &ConnSink{in: in, listener: listener}
}

// Sink returns a sink whose Message returns only once the message is with the publisher, for callers
// that hand messages one at a time and do not call Flush or Close. It normalises on the caller's
// goroutine (with a worker's Normaliser): a listener's connection should use BatchSink.
func (in *Ingestor) Sink(listener string) *LineSink {
	return &LineSink{in: in, listener: listener, c: newCounters(in.metrics.Parsed)}
}

// LineSink normalises and publishes each message before Message returns. See Ingestor.Sink.
type LineSink struct {
	in       *Ingestor
	listener string
	c        *counters
}

// Message normalises and publishes one message: an event, or a dead letter when it is not syslog or was
// cut.
func (s *LineSink) Message(ctx context.Context, peer netip.Addr, msg []byte, tooLong bool) error {
	var n *Normaliser
	select {
	case n = <-s.in.workers:
	case <-ctx.Done():
		return ctx.Err()
	}
	e, err := n.Syslog(s.listener, peer, msg)
	s.in.workers <- n
	if err != nil || tooLong {
		return s.in.dead(ctx, s.listener, peer, msg, tooLong, &e, err)
	}
	s.c.parsed(s.listener, e.Meta.Module, e.Log.ParseStatus).Inc()
	return s.in.publisher.Event(ctx, &e)
}

// Flush has nothing to do: no message is held.
func (s *LineSink) Flush(context.Context) error { return nil }

// Close has nothing to do: no message is held.
func (s *LineSink) Close(context.Context) error { return nil }

func (in *Ingestor) newBatch() *lineBatch {
	if b, ok := in.batches.Get().(*lineBatch); ok {
		return b
	}
	return &lineBatch{events: make([]event.Event, 0, in.batch), errs: make([]error, 0, in.batch)}
}

// Message takes one message; msg may be reused by the caller once it returns. It blocks while the workers
// and the sink's queue are full, which slows the sender down. It fails once a publish has failed (the
// publisher is stopping); the connection should then end.
func (s *ConnSink) Message(ctx context.Context, peer netip.Addr, msg []byte, tooLong bool) error {
	if err := s.failed(); err != nil {
		return err
	}
	if s.cur == nil {
		s.cur = s.in.newBatch()
	}
	s.cur.add(peer, msg, tooLong)
	if len(s.cur.ends) >= s.in.batch || len(s.cur.buf) >= batchBytes {
		return s.submit(ctx)
	}
	return nil
}

// Flush hands on the messages held, without waiting for them: the listener calls it when it has nothing
// more buffered, so that a line is not held back waiting for the next.
func (s *ConnSink) Flush(ctx context.Context) error {
	if s.cur != nil && len(s.cur.ends) > 0 {
		return s.submit(ctx)
	}
	return s.failed()
}

// Close hands on the messages held and returns once every message given to the sink is with the
// publisher (or ctx ends). The sink is not usable afterwards.
func (s *ConnSink) Close(ctx context.Context) error {
	if err := s.Flush(ctx); err != nil {
		return err
	}
	if s.queue == nil {
		return nil
	}
	close(s.queue)
	select {
	case <-s.emitted:
	case <-ctx.Done():
		return fmt.Errorf("listener %s: connection's messages not all published: %w", s.listener, ctx.Err())
	}
	return s.failed()
}

// submit queues the current batch for the emitter, then has a worker normalise it. Queued first, so the
// emitter sees batches in the order they came whichever worker finishes first.
func (s *ConnSink) submit(ctx context.Context) error {
	b := s.cur
	s.cur = nil
	if s.queue == nil {
		s.queue = make(chan *lineBatch, 2*cap(s.in.workers))
		s.emitted = make(chan struct{})
		go s.emit(context.WithoutCancel(ctx))
	}
	b.done = make(chan struct{})
	select {
	case s.queue <- b:
	case <-ctx.Done():
		return fmt.Errorf("listener %s: %d messages not published: %w", s.listener, len(b.ends), ctx.Err())
	}
	listener := s.listener
	if err := s.in.run(ctx, func(n *Normaliser) { b.normalise(n, listener) }, b.done); err != nil {
		b.skip = true
		close(b.done)
		return fmt.Errorf("listener %s: %d messages not published: %w", s.listener, len(b.ends), err)
	}
	return nil
}

// emit publishes the batches in the order they were queued, each once a worker has normalised it.
func (s *ConnSink) emit(ctx context.Context) {
	defer close(s.emitted)
	c := newCounters(s.in.metrics.Parsed)
	for b := range s.queue {
		<-b.done
		if !b.skip && s.failed() == nil {
			for i := range b.ends {
				err := s.emitLine(ctx, c, b, i)
				if err != nil {
					s.fail(fmt.Errorf("listener %s: %d messages not published: %w", s.listener, len(b.ends)-i, err))
					break
				}
			}
		}
		b.reset()
		s.in.batches.Put(b)
	}
}

// emitLine publishes message i of a batch: its encoded event, or a dead letter.
func (s *ConnSink) emitLine(ctx context.Context, c *counters, b *lineBatch, i int) error {
	e, err := &b.events[i], b.errs[i]
	if errors.Is(err, errEncode) {
		s.in.metrics.PublishErrors.WithLabelValues("encode").Inc()
		s.in.publisher.log.Error("event not published", "id", e.ID, "raw", e.Meta.Original, "err", err)
		return nil
	}
	if err != nil || b.tooLong[i] {
		return s.in.dead(ctx, s.listener, b.peers[i], b.line(i), b.tooLong[i], e, err)
	}
	c.parsed(s.listener, e.Meta.Module, e.Log.ParseStatus).Inc()
	return s.in.publisher.encoded(b.subjects[i], e.ID, b.eventJSON(i))
}

func (s *ConnSink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *ConnSink) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}
