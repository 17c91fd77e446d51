package pipeline

import (
	"context"

	"github.com/zonewatch/zonewatch/ingest/tail"
)

// FileHandler returns the handler of one followed file: it normalises and publishes a batch of lines and
// returns once JetStream has acknowledged all of them, so the follower may save its offset.
func (in *Ingestor) FileHandler(input, format string, pub *Publisher) tail.Handler {
	norm := NewNormaliser(in.opts)
	return func(ctx context.Context, lines []tail.Line) error {
		for _, l := range lines {
			in.metrics.Received.WithLabelValues(input).Inc()
			in.metrics.Bytes.WithLabelValues(input).Add(float64(len(l.Text)))
			e, err := norm.File(input, format, l.ID, l.Text)
			if err != nil {
				in.metrics.Failed.WithLabelValues(input, "not_"+format).Inc()
				d := &DeadLetter{ID: l.ID, Received: e.Meta.Ingested, Listener: input, Reason: err.Error(), Raw: l.Text}
				if err := pub.Dead(ctx, d); err != nil {
					return err
				}
				continue
			}
			in.metrics.Parsed.WithLabelValues(input, e.Meta.Module, e.Log.ParseStatus).Inc()
			if err := pub.Event(ctx, &e); err != nil {
				return err
			}
		}
		return pub.Wait(ctx)
	}
}
