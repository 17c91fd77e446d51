package writer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
)

const deadColumns = "id, received, listener, peer, reason, raw"

// decodeDead decodes the dead stream's messages; even a broken dead letter is kept, its bytes as the raw
// text.
func (w *Writer) decodeDead(b *batch) {
	b.dead = make([]pipeline.DeadLetter, 0, len(b.msgs))
	for _, m := range b.msgs {
		var d pipeline.DeadLetter
		if err := json.Unmarshal(m.Data(), &d); err != nil || d.ID == "" {
			reason := "undecodable dead letter on " + m.Subject()
			if err != nil {
				reason += ": " + err.Error()
			}
			d = busDeadLetter(m, reason)
		}
		b.dead = append(b.dead, d)
	}
}

func (w *Writer) insertDeadBatch(ctx context.Context, b *batch, _ int) error {
	return w.writeDead(ctx, b.dead)
}

// writeDead inserts dead letters. Redelivered copies collapse in the ReplacingMergeTree on (listener,
// received, id); nothing is aggregated from dead_letters, so no look-up is needed.
func (w *Writer) writeDead(ctx context.Context, rows []pipeline.DeadLetter) error {
	if len(rows) == 0 {
		return nil
	}
	h := sha256.New()
	for _, d := range rows {
		h.Write([]byte(d.ID))
	}
	err := w.send(ctx, "dead_letters", deadColumns, hex.EncodeToString(h.Sum(nil)[:16]), func(b driver.Batch) error {
		for _, d := range rows {
			if err := b.Append(d.ID, d.Received, d.Listener, d.Peer, d.Reason, d.Raw); err != nil {
				return fmt.Errorf("append dead letter %s: %w", d.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert %d dead letters: %w", len(rows), err)
	}
	w.m.dead.Add(float64(len(rows)))
	return nil
}
