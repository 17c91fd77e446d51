package writer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/internal/event"
)

// lookupChunk bounds the ids of one look-up query, well inside ClickHouse's max_query_size (256 KiB).
const lookupChunk = 4000

// eventSlices recycles the decoded events of written batches: a batch is 20000 events of ~500 bytes,
// and allocating them anew for every batch made the garbage collector a fifth of the writer's CPU.
var eventSlices sync.Pool

// decodeEvents decodes the events of a batch. A message holds one or more events as NDJSON (see
// pipeline.Publisher); every event of a message shares its redelivered flag. A line that is not an event
// becomes a dead letter, and the other events of its message are still written.
func (w *Writer) decodeEvents(b *batch) {
	lines := 0
	for _, m := range b.msgs {
		lines += event.BatchLen(m.Data())
	}
	if s, ok := eventSlices.Get().(*[]event.Event); ok && cap(*s) >= lines {
		b.events = (*s)[:lines]
	} else {
		b.events = make([]event.Event, lines)
	}
	b.suspect = make([]bool, 0, lines)
	n := 0
	for _, m := range b.msgs {
		again := redelivered(m)
		batched := event.BatchLen(m.Data()) > 1
		line := 0
		event.SplitBatch(m.Data(), func(data []byte) {
			line++
			if err := decodeEvent(data, &b.events[n]); err != nil {
				w.m.undecodable.Inc()
				d := busDeadLetter(m, "undecodable message on "+m.Subject()+": "+err.Error())
				if batched {
					// One dead letter per bad line, each with its own id and only its own text.
					d.ID += "-" + strconv.Itoa(line)
					d.Reason = fmt.Sprintf("undecodable event (line %d) in a message on %s: %v", line, m.Subject(), err)
					d.Raw = string(data)
				}
				b.dead = append(b.dead, d)
				return
			}
			b.suspect = append(b.suspect, again)
			n++
		})
		if line == 0 {
			w.m.undecodable.Inc()
			b.dead = append(b.dead, busDeadLetter(m, "undecodable message on "+m.Subject()+": no event in it"))
		}
	}
	b.events = b.events[:n]
}

// decodeEvent decodes one event from its JSON form on the bus (event.Decode: github.com/goccy/go-json,
// which decodes the event about five times faster than encoding/json with a seventh of the allocations,
// measured on the test generator's mix); TestDecodeEventMatchesEncodingJSON holds it to encoding/json's
// result.
func decodeEvent(data []byte, e *event.Event) error { return event.Decode(data, e) }

// recycle returns a written batch's events for reuse.
func (b *batch) recycle() {
	if cap(b.events) == 0 {
		return
	}
	s := b.events[:0]
	b.events = nil
	eventSlices.Put(&s)
}

// busDeadLetter keeps a message from the bus that is not what its stream should hold. Its id and time
// come from the message's place in the stream, so a redelivered copy collapses with the first in the
// dead_letters ReplacingMergeTree.
func busDeadLetter(m jetstream.Msg, reason string) pipeline.DeadLetter {
	d := pipeline.DeadLetter{ID: fmt.Sprintf("bus-%s-%d", m.Subject(), seq(m)), Listener: "bus", Reason: reason, Raw: string(m.Data())}
	if md, err := m.Metadata(); err == nil {
		d.Received = md.Timestamp.UTC()
	} else {
		d.Received = time.Now().UTC()
	}
	return d
}

// insertEvents inserts a batch's events (and its undecodable messages as dead letters), leaving out
// those ClickHouse already has. See the package documentation, "No duplicates".
func (w *Writer) insertEvents(ctx context.Context, b *batch, _ int) error {
	if len(b.dead) > 0 && !b.deadOK {
		if err := w.writeDead(ctx, b.dead); err != nil {
			return err
		}
		b.deadOK = true
	}
	if len(b.events) == 0 {
		return nil
	}
	// The first attempt decides which rows go in: all but the redelivered events ClickHouse already holds.
	// Every retry then sends the identical INSERT (same rows, same order, same token): whatever part of
	// an attempt the server committed before it failed (events, or some of the rollups) is dropped as a
	// repeat table by table, and the rest is written. A look-up at a retry would be wrong: it would find
	// the events an attempt committed and leave them out of the rollups that attempt did not reach.
	if !b.planned {
		var suspects []string
		var from, to time.Time
		for i := range b.events {
			if e := &b.events[i]; b.suspect[i] {
				if len(suspects) == 0 {
					from, to = e.Timestamp, e.Timestamp
				}
				suspects = append(suspects, e.ID)
				from, to = minTime(from, e.Timestamp), maxTime(to, e.Timestamp)
			}
		}
		stored, err := w.alreadyStored(ctx, suspects, from, to)
		if err != nil {
			return err
		}
		b.skip, b.planned = stored, true
	}
	stored := b.skip
	r := &w.rows
	r.reset()
	h := sha256.New()
	seen := make(map[string]struct{}, len(b.events))
	skipped := 0
	for i := range b.events {
		e := &b.events[i]
		if _, dup := seen[e.ID]; dup {
			skipped++ // the same event twice in one batch (published twice beyond the duplicate window)
			continue
		}
		seen[e.ID] = struct{}{}
		if _, ok := stored[e.ID]; ok {
			skipped++
			continue
		}
		r.add(e)
		h.Write([]byte(e.ID))
	}
	if r.len() > 0 {
		if err := w.send(ctx, "events", eventColumns, hex.EncodeToString(h.Sum(nil)[:16]), r.appendTo); err != nil {
			return fmt.Errorf("insert %d events: %w", r.len(), err)
		}
	}
	w.m.inserted.Add(float64(r.len()))
	w.m.duplicates.Add(float64(skipped))
	now := time.Now()
	for _, t := range r.ingested {
		w.m.lag.Observe(now.Sub(t).Seconds())
	}
	return nil
}

// send runs one INSERT into table with an insert_deduplication_token, so that ClickHouse stores the
// same rows once even if the writer sends them again after an ambiguous failure.
func (w *Writer) send(ctx context.Context, table, columns, token string, fill func(driver.Batch) error) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{
		"insert_deduplication_token": token,
		// A repeated INSERT that events drops must not reach the rollups either.
		"deduplicate_blocks_in_dependent_materialized_views": 1,
	}))
	bt, err := w.o.CH.PrepareBatch(ctx, "INSERT INTO "+w.table(table)+" ("+columns+")")
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", w.table(table), err)
	}
	defer func() { _ = bt.Abort() }()
	if err := fill(bt); err != nil {
		return err
	}
	return bt.Send()
}

// alreadyStored returns which of ids ClickHouse already holds in events, looking at events between from
// and to (the suspects' timestamps) only.
func (w *Writer) alreadyStored(ctx context.Context, ids []string, from, to time.Time) (map[string]struct{}, error) {
	found := map[string]struct{}{}
	if len(ids) == 0 {
		return found, nil
	}
	w.m.lookups.Add(float64(len(ids)))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), lookupChunk)]
		ids = ids[len(chunk):]
		rows, err := w.o.CH.Query(ctx, "SELECT id FROM "+w.table("events")+
			" WHERE timestamp >= fromUnixTimestamp64Milli(?) AND timestamp <= fromUnixTimestamp64Milli(?) AND id IN (?)",
			from.UnixMilli(), to.UnixMilli()+1, chunk)
		if err != nil {
			return nil, fmt.Errorf("look up %d redelivered event ids: %w", len(chunk), err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			found[id] = struct{}{}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("look up %d redelivered event ids: %w", len(chunk), err)
		}
	}
	return found, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
