package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// Options configure a Writer. Zero values pick the documented defaults.
type Options struct {
	JS jetstream.JetStream
	CH driver.Conn
	// Database holds the events and dead_letters tables; default "zonewatch".
	Database string
	// Durable is the consumer's name; writers with the same name share the work. Default "writer".
	Durable string
	// BatchSize is the number of events one INSERT aims at, and the most messages one Fetch asks for;
	// default 20000. A message carries one or more events (pipeline.Publisher batches them), so each
	// Fetch asks for BatchSize ÷ (events per message of the previous batch) messages; the first asks for
	// BatchSize ÷ pipeline.DefaultMaxBatchEvents, so that a backlog of full messages after a restart does
	// not make one INSERT of millions of rows.
	BatchSize int
	// FlushInterval is the longest a Fetch waits for a full batch; default 1s.
	FlushInterval time.Duration
	// AckWait is how long JetStream waits for an ack before it redelivers; default 60s. The writer sends
	// InProgress every AckWait/3 while it holds a batch.
	AckWait time.Duration
	// InsertTimeout bounds one INSERT attempt (and one id look-up); default 60s.
	InsertTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries of a failed insert; defaults 200ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// MonitorInterval is how often the stream limits and the consumer backlog are checked; default 30s,
	// negative disables the monitor (see MonitorStreams).
	MonitorInterval time.Duration
	// StreamWarnRatio is the fill ratio of a stream's max_bytes (or max_msgs) above which the monitor logs
	// at error level and sets zonewatch_jetstream_stream_near_limit; default 0.8.
	StreamWarnRatio float64
	Logger          *slog.Logger
	Registerer      prometheus.Registerer
	// Fault injects faults for tests; leave it zero.
	Fault Fault
}

// Fault is fault injection for tests: it simulates failures that cannot be timed from outside the
// process. Production code leaves it zero.
type Fault struct {
	// SkipAck makes the writer insert every batch and then not acknowledge it, as if the process had been
	// killed between the INSERT and the acks. A SIGKILL cannot be aimed at the gap between two statements,
	// so this is how a test shows that the redelivery that follows adds no rows.
	SkipAck bool
}

func (o Options) withDefaults() Options {
	if o.Database == "" {
		o.Database = "zonewatch"
	}
	if o.Durable == "" {
		o.Durable = natsbus.ConsumerWriter
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 20000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.AckWait <= 0 {
		o.AckWait = 60 * time.Second
	}
	if o.InsertTimeout <= 0 {
		o.InsertTimeout = 60 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.MonitorInterval == 0 {
		o.MonitorInterval = 30 * time.Second
	}
	if o.StreamWarnRatio <= 0 || o.StreamWarnRatio >= 1 {
		o.StreamWarnRatio = 0.8
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Writer is one writer process's loops: events and dead letters.
type Writer struct {
	o    Options
	m    *metrics
	cons jetstream.Consumer
	dead jetstream.Consumer
	// retrying counts the loops currently retrying an insert; the state metric is 1 while it is > 0.
	retrying atomic.Int32
	rows     eventRows // the events loop's column buffers, reused batch after batch
}

// New makes a Writer and its durable consumers (created or updated, so every start may call it).
func New(ctx context.Context, o Options) (*Writer, error) {
	if o.JS == nil || o.CH == nil {
		return nil, errors.New("writer: Options.JS and Options.CH are required")
	}
	o = o.withDefaults()
	w := &Writer{o: o, m: newMetrics(o.Registerer)}
	var err error
	w.cons, err = o.JS.CreateOrUpdateConsumer(ctx, natsbus.StreamEvents, w.consumerConfig(o.Durable))
	if err != nil {
		return nil, fmt.Errorf("writer consumer %s on %s: %w", o.Durable, natsbus.StreamEvents, err)
	}
	w.dead, err = o.JS.CreateOrUpdateConsumer(ctx, natsbus.StreamDead, w.consumerConfig(o.Durable))
	if err != nil {
		return nil, fmt.Errorf("writer consumer %s on %s: %w", o.Durable, natsbus.StreamDead, err)
	}
	return w, nil
}

func (w *Writer) consumerConfig(name string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:   name,
		AckPolicy: jetstream.AckExplicitPolicy,
		AckWait:   w.o.AckWait,
		// Each writer holds at most two batches (one inserting, one decoded); room for a few writers.
		MaxAckPending: w.o.BatchSize * 8,
		MaxDeliver:    -1, // evidence is never given up on; a poison message is dead-lettered instead
	}
}

// Run writes until ctx ends. An INSERT under way when ctx ends is finished (within InsertTimeout) and
// acknowledged; batches fetched and not yet inserted are handed back (Nak) for this or another writer.
func (w *Writer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() { errc <- w.loop(ctx, w.cons, natsbus.StreamEvents, w.decodeEvents, w.insertEvents) })
	wg.Go(func() { errc <- w.loop(ctx, w.dead, natsbus.StreamDead, w.decodeDead, w.insertDeadBatch) })
	if w.o.MonitorInterval > 0 {
		wg.Go(func() {
			MonitorStreams(ctx, MonitorOptions{JS: w.o.JS, Durable: w.o.Durable, Interval: w.o.MonitorInterval,
				WarnRatio: w.o.StreamWarnRatio, Logger: w.o.Logger, metrics: w.m})
		})
	}
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// batch is what one Fetch returned, decoded, from the moment it is fetched until it is acknowledged.
type batch struct {
	msgs    []jetstream.Msg
	events  []event.Event         // decoded events (events stream)
	suspect []bool                // events[i] may be in ClickHouse already: JetStream redelivered it
	dead    []pipeline.DeadLetter // dead letters: undecodable events, or the dead stream's messages
	deadOK  bool                  // the dead letters are in: a retry does not send them again
	planned bool                  // the first attempt has looked up the redelivered events
	skip    map[string]struct{}   // redelivered events ClickHouse already held at the first attempt
	release func()                // stops the InProgress heartbeat
}

type (
	decoder  func(b *batch)
	inserter func(ctx context.Context, b *batch, attempt int) error
)

func (w *Writer) loop(ctx context.Context, c jetstream.Consumer, stream string, decode decoder, insert inserter) error {
	ready := make(chan *batch) // unbuffered: with the one the fetcher holds, two batches at most
	var fetchErr error
	go func() {
		defer close(ready)
		fetchErr = w.fetch(ctx, c, stream, decode, ready)
	}()
	for b := range ready {
		if ctx.Err() != nil {
			w.handBack(b)
			continue
		}
		w.writeBatch(ctx, b, insert)
	}
	return fetchErr
}

// fetch pulls batches, decodes them, and hands them to the inserter until ctx ends.
func (w *Writer) fetch(ctx context.Context, c jetstream.Consumer, stream string, decode decoder, ready chan<- *batch) error {
	perMsg := 1 // events per message in the last batch
	if stream == natsbus.StreamEvents {
		perMsg = pipeline.DefaultMaxBatchEvents
	}
	for ctx.Err() == nil {
		mb, err := c.Fetch(max(1, w.o.BatchSize/perMsg), jetstream.FetchMaxWait(w.o.FlushInterval))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.o.Logger.Warn("fetch from JetStream failed; retrying", "stream", stream, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		b := &batch{msgs: make([]jetstream.Msg, 0, 256)}
		for m := range mb.Messages() {
			b.msgs = append(b.msgs, m)
		}
		if err := mb.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
			w.o.Logger.Debug("fetch ended with an error", "stream", stream, "err", err, "messages", len(b.msgs))
		}
		if len(b.msgs) == 0 {
			continue
		}
		b.release = w.heartbeat(b.msgs)
		decode(b)
		if stream == natsbus.StreamEvents {
			perMsg = max(1, (len(b.events)+len(b.dead)+len(b.msgs)-1)/len(b.msgs)) // rounded up
		}
		select {
		case ready <- b:
		case <-ctx.Done():
			w.handBack(b)
			return nil
		}
	}
	return nil
}

// heartbeat sends InProgress for msgs every AckWait/3 until the returned release is called; release
// returns after the last InProgress, so an Ack never races one.
func (w *Writer) heartbeat(msgs []jetstream.Msg) (release func()) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(w.o.AckWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				for _, m := range msgs {
					_ = m.InProgress()
				}
			}
		}
	}()
	return sync.OnceFunc(func() { close(stop); <-done })
}

// handBack returns an unwritten batch to JetStream for immediate redelivery.
func (w *Writer) handBack(b *batch) {
	b.release()
	b.recycle()
	for _, m := range b.msgs {
		_ = m.Nak()
	}
}

// writeBatch inserts with capped exponential backoff until ClickHouse takes the batch, then acks it.
// Once ctx ends, an attempt under way is finished but no new attempt starts: the batch is handed back.
func (w *Writer) writeBatch(ctx context.Context, b *batch, insert inserter) {
	backoff := w.o.MinBackoff
	retrying := false
	defer func() {
		if retrying {
			w.setRetrying(-1)
		}
	}()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		// An attempt outlives ctx by up to InsertTimeout: a half-sent INSERT is not left behind at shutdown.
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.o.InsertTimeout)
		err := insert(ictx, b, attempt)
		cancel()
		if err == nil {
			w.m.batchSeconds.Observe(time.Since(start).Seconds())
			w.m.batchRows.Observe(float64(len(b.msgs)))
			if len(b.events) > 0 {
				w.m.batchEvents.Observe(float64(len(b.events)))
			}
			b.release()
			b.recycle()
			if w.o.Fault.SkipAck {
				return
			}
			for _, m := range b.msgs {
				_ = m.Ack()
			}
			return
		}
		w.m.failures.Inc()
		if ctx.Err() != nil {
			w.handBack(b)
			return
		}
		if !retrying {
			retrying = true
			w.setRetrying(+1)
		}
		w.o.Logger.Warn("insert into ClickHouse failed; the batch stays in JetStream and is retried",
			"messages", len(b.msgs), "events", len(b.events), "attempt", attempt, "retry_in", backoff, "err", err)
		sleep(ctx, backoff)
		backoff = min(backoff*2, w.o.MaxBackoff)
	}
}

func (w *Writer) setRetrying(delta int32) {
	if w.retrying.Add(delta) > 0 {
		w.m.state.Set(stateRetrying)
	} else {
		w.m.state.Set(stateWriting)
	}
}

func seq(m jetstream.Msg) uint64 {
	if md, err := m.Metadata(); err == nil {
		return md.Sequence.Stream
	}
	return 0
}

func redelivered(m jetstream.Msg) bool {
	md, err := m.Metadata()
	return err == nil && md.NumDelivered > 1
}

func (w *Writer) table(name string) string { return "`" + w.o.Database + "`." + name }

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
