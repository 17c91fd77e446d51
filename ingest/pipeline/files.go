package pipeline

import (
	"context"

	"github.com/zonewatch/zonewatch/ingest/tail"
	"github.com/zonewatch/zonewatch/internal/event"
)

// FileHandler returns the handler of one followed file: it normalises and publishes a batch of lines and
// returns once JetStream has acknowledged all of them, so the follower may save its offset. The lines
// are normalised in chunks on the Ingestor's workers and published in the file's order.
func (in *Ingestor) FileHandler(input, format string, pub *Publisher) tail.Handler {
	c := newCounters(in.metrics.Parsed)
	return func(ctx context.Context, lines []tail.Line) error {
		chunks := make([]*fileChunk, 0, (len(lines)+in.batch-1)/in.batch)
		for start := 0; start < len(lines); start += in.batch {
			ch := &fileChunk{lines: lines[start:min(start+in.batch, len(lines))], done: make(chan struct{})}
			if err := in.run(ctx, func(n *Normaliser) { ch.normalise(n, input, format) }, ch.done); err != nil {
				return err
			}
			chunks = append(chunks, ch)
		}
		for _, ch := range chunks {
			select {
			case <-ch.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			for i, l := range ch.lines {
				if err := in.emitFileLine(ctx, c, pub, input, format, l, &ch.events[i], ch.errs[i]); err != nil {
					return err
				}
			}
		}
		return pub.Wait(ctx)
	}
}

// fileChunk is a run of a file's lines normalised by one worker.
type fileChunk struct {
	lines  []tail.Line
	events []event.Event
	errs   []error
	done   chan struct{}
}

func (ch *fileChunk) normalise(n *Normaliser, input, format string) {
	ch.events = make([]event.Event, len(ch.lines))
	ch.errs = make([]error, len(ch.lines))
	for i, l := range ch.lines {
		ch.events[i], ch.errs[i] = n.File(input, format, l.ID, l.Text)
	}
}

func (in *Ingestor) emitFileLine(ctx context.Context, c *counters, pub *Publisher, input, format string, l tail.Line, e *event.Event, err error) error {
	in.metrics.Received.WithLabelValues(input).Inc()
	in.metrics.Bytes.WithLabelValues(input).Add(float64(len(l.Text)))
	if err != nil {
		in.metrics.Failed.WithLabelValues(input, "not_"+format).Inc()
		d := &DeadLetter{ID: l.ID, Received: e.Meta.Ingested, Listener: input, Reason: err.Error(), Raw: l.Text}
		return pub.Dead(ctx, d)
	}
	c.parsed(input, e.Meta.Module, e.Log.ParseStatus).Inc()
	return pub.Event(ctx, e)
}
