package writer

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
)

func (w *Writer) insertDead(ctx context.Context, msgs []jetstream.Msg) ([]jetstream.Msg, error) {
	rows := make([]pipeline.DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		var d pipeline.DeadLetter
		if err := json.Unmarshal(m.Data(), &d); err != nil || d.ID == "" {
			// Even a broken dead letter is kept: its bytes become the raw text.
			d = pipeline.DeadLetter{ID: fmt.Sprintf("bus-%s-%d", m.Subject(), seq(m)), Received: time.Now().UTC(), Listener: "bus",
				Reason: fmt.Sprintf("undecodable dead letter on %s: %v", m.Subject(), err), Raw: string(m.Data())}
		}
		rows = append(rows, d)
	}
	return msgs, w.writeDead(ctx, rows)
}

// writeDead inserts dead letters; redelivered copies collapse in the ReplacingMergeTree on (listener,
// received, id).
func (w *Writer) writeDead(ctx context.Context, rows []pipeline.DeadLetter) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := w.o.CH.PrepareBatch(ctx, "INSERT INTO "+w.table("dead_letters")+" (id, received, listener, peer, reason, raw)")
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", w.table("dead_letters"), err)
	}
	defer func() { _ = b.Abort() }()
	for _, d := range rows {
		if err := b.Append(d.ID, d.Received, d.Listener, d.Peer, d.Reason, d.Raw); err != nil {
			return fmt.Errorf("append dead letter %s: %w", d.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d dead letters: %w", len(rows), err)
	}
	w.m.dead.Add(float64(len(rows)))
	return nil
}
