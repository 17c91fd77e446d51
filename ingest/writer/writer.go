// Package writer moves events from JetStream into ClickHouse: large batches, acknowledged only after
// ClickHouse accepted them, without duplicate rows when JetStream redelivers, and patient while ClickHouse
// is away (JetStream holds the backlog on disk).
package writer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// Options configure a Writer.
type Options struct {
	JS       jetstream.JetStream
	CH       driver.Conn
	Database string
	// Durable is the consumer's name; writers with the same name share the work.
	Durable       string
	BatchSize     int
	FlushInterval time.Duration
	AckWait       time.Duration
	// MaxBackoff caps the wait between retries of a failed insert.
	MaxBackoff time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Writer is one writer process's loop.
type Writer struct {
	o    Options
	m    *metrics
	cons jetstream.Consumer
	dead jetstream.Consumer
}

// New makes a Writer and its durable consumers (created or updated, so every start may call it).
func New(ctx context.Context, o Options) (*Writer, error) {
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
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
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
		Durable:       name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       w.o.AckWait,
		MaxAckPending: w.o.BatchSize * 4,
		MaxDeliver:    -1, // evidence is never given up on; a poison message is dead-lettered instead
	}
}

// Run writes until ctx ends. What was fetched and not yet written is not acknowledged, so JetStream
// redelivers it to this or another writer.
func (w *Writer) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- w.loop(ctx, w.cons, w.insertEvents) }()
	go func() { errc <- w.loop(ctx, w.dead, w.insertDead) }()
	err := errors.Join(<-errc, <-errc)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

type inserter func(ctx context.Context, msgs []jetstream.Msg) (kept []jetstream.Msg, err error)

func (w *Writer) loop(ctx context.Context, c jetstream.Consumer, insert inserter) error {
	for ctx.Err() == nil {
		batch, err := c.Fetch(w.o.BatchSize, jetstream.FetchMaxWait(w.o.FlushInterval))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.o.Logger.Warn("fetch from JetStream failed; retrying", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			continue
		}
		w.writeBatch(ctx, msgs, insert)
	}
	return nil
}

// writeBatch inserts with capped exponential backoff until ClickHouse takes the batch, then acks it.
// While it waits, the messages' ack deadline is pushed back so JetStream does not hand them to another
// writer.
func (w *Writer) writeBatch(ctx context.Context, msgs []jetstream.Msg, insert inserter) {
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
		kept, err := insert(ictx, msgs)
		cancel()
		if err == nil {
			w.m.state.Set(stateWriting)
			w.m.inserted.Add(float64(len(kept)))
			w.m.batchSeconds.Observe(time.Since(start).Seconds())
			for _, m := range msgs {
				_ = m.Ack()
			}
			return
		}
		if ctx.Err() != nil {
			return // not acked: redelivered after a restart
		}
		w.m.state.Set(stateRetrying)
		w.m.failures.Inc()
		w.o.Logger.Warn("insert into ClickHouse failed; the batch stays in JetStream and is retried",
			"rows", len(msgs), "attempt", attempt, "retry_in", backoff, "err", err)
		for _, m := range msgs {
			_ = m.InProgress()
		}
		sleep(ctx, backoff)
		backoff = min(backoff*2, w.o.MaxBackoff)
	}
}

func (w *Writer) insertEvents(ctx context.Context, msgs []jetstream.Msg) ([]jetstream.Msg, error) {
	events := make([]*event.Event, 0, len(msgs))
	kept := make([]jetstream.Msg, 0, len(msgs))
	var redelivered []string
	var undecodable []pipeline.DeadLetter
	for _, m := range msgs {
		e := new(event.Event)
		if err := json.Unmarshal(m.Data(), e); err != nil || e.ID == "" {
			// Not an event we can store: keep it as a dead letter rather than block the stream.
			w.m.undecodable.Inc()
			undecodable = append(undecodable, pipeline.DeadLetter{ID: fmt.Sprintf("%s-%d", m.Subject(), seq(m)), Received: time.Now().UTC(),
				Listener: "bus", Reason: fmt.Sprintf("undecodable message on %s: %v", m.Subject(), err), Raw: string(m.Data())})
			continue
		}
		if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
			redelivered = append(redelivered, e.ID)
		}
		events = append(events, e)
		kept = append(kept, m)
	}
	if err := w.writeDead(ctx, undecodable); err != nil {
		return nil, err
	}
	skip, err := w.alreadyStored(ctx, redelivered)
	if err != nil {
		return nil, err
	}
	b, err := w.o.CH.PrepareBatch(ctx, "INSERT INTO "+w.table("events")+" ("+eventColumns+")")
	if err != nil {
		return nil, fmt.Errorf("prepare insert into %s: %w", w.table("events"), err)
	}
	defer func() { _ = b.Abort() }()
	n := 0
	for _, e := range events {
		if skip[e.ID] {
			w.m.duplicates.Inc()
			continue
		}
		if err := b.Append(row(e)...); err != nil {
			return nil, fmt.Errorf("append event %s: %w", e.ID, err)
		}
		n++
	}
	if n > 0 {
		if err := b.Send(); err != nil {
			return nil, fmt.Errorf("insert %d events: %w", n, err)
		}
	}
	return kept, nil
}

// alreadyStored returns which of the redelivered events' ids ClickHouse already has: a writer that died
// after its insert and before its ack must not leave duplicate rows. Only redelivered messages are checked,
// so the normal path costs nothing.
func (w *Writer) alreadyStored(ctx context.Context, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	if len(ids) == 0 {
		return found, nil
	}
	rows, err := w.o.CH.Query(ctx, "SELECT id FROM "+w.table("events")+" WHERE id IN (?)", ids)
	if err != nil {
		return nil, fmt.Errorf("look up %d redelivered event ids: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		found[id] = true
	}
	return found, rows.Err()
}

func seq(m jetstream.Msg) uint64 {
	if md, err := m.Metadata(); err == nil {
		return md.Sequence.Stream
	}
	return 0
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
