package pipeline

import (
	"context"
	"net/netip"
	"runtime"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Defaults of IngestorOptions.
const (
	DefaultBatchLines = 128
	// batchBytes closes a connection's batch early when its lines are long, so that a batch's memory
	// stays small whatever max_message_bytes is.
	batchBytes = 256 << 10
)

// IngestorOptions configure an Ingestor.
type IngestorOptions struct {
	Normaliser NormaliserOptions
	Publisher  *Publisher
	Metrics    *Metrics
	// Workers bounds the goroutines that normalise lines, shared by every connection of the Ingestor;
	// default GOMAXPROCS. One connection's lines are spread over all of them.
	Workers int
	// BatchLines is how many lines of one connection a worker takes at a time; default 128. A batch is
	// also handed on early when the listener has nothing more buffered (Flush), so a quiet sender's line
	// does not wait for others.
	BatchLines int
}

// Ingestor joins normalising and publishing: it makes one Sink per connection.
//
// A connection's goroutine only frames its lines and copies them into batches; the batches are
// normalised on a bounded pool of workers, and a per-connection emitter publishes the results in the
// order the lines arrived. One connection's goroutine doing everything was the limit of ingest (87 000
// lines/s on two cores with one core idle); see BenchmarkIngestEndToEnd.
type Ingestor struct {
	opts      NormaliserOptions
	publisher *Publisher
	metrics   *Metrics
	batch     int
	// workers holds one Normaliser per worker: taking one is taking a worker's slot, so it is both the
	// bound on concurrent normalising and the free list of the non-concurrent Normalisers.
	workers chan *Normaliser
	batches sync.Pool // of *lineBatch, reused by the connections
}

// NewIngestor makes an Ingestor with the default number of workers and batch size.
func NewIngestor(n NormaliserOptions, p *Publisher, m *Metrics) *Ingestor {
	return NewIngestorWith(IngestorOptions{Normaliser: n, Publisher: p, Metrics: m})
}

// NewIngestorWith makes an Ingestor from options.
func NewIngestorWith(o IngestorOptions) *Ingestor {
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.BatchLines <= 0 {
		o.BatchLines = DefaultBatchLines
	}
	in := &Ingestor{opts: o.Normaliser, publisher: o.Publisher, metrics: o.Metrics, batch: o.BatchLines,
		workers: make(chan *Normaliser, o.Workers)}
	for range o.Workers {
		in.workers <- NewNormaliser(o.Normaliser)
	}
	return in
}

// run runs work on a free worker's Normaliser, in a goroutine of its own, and closes done after it. It
// blocks while every worker is busy, which slows the caller (a connection's reader) down.
func (in *Ingestor) run(ctx context.Context, work func(*Normaliser), done chan<- struct{}) error {
	var n *Normaliser
	select {
	case n = <-in.workers:
	case <-ctx.Done():
		return ctx.Err()
	}
	go func() {
		defer close(done)
		defer func() { in.workers <- n }()
		work(n)
	}()
	return nil
}

// dead publishes a message that is not syslog (err) or was cut (tooLong) as a dead letter.
func (in *Ingestor) dead(ctx context.Context, listener string, peer netip.Addr, raw []byte, tooLong bool, e *event.Event, err error) error {
	reason := "too_long"
	if err != nil {
		reason = "not_syslog"
	}
	in.metrics.Failed.WithLabelValues(listener, reason).Inc()
	d := &DeadLetter{ID: e.ID, Received: e.Meta.Ingested, Listener: listener, Reason: deadReason(err, tooLong), Raw: string(raw)}
	if peer.IsValid() {
		d.Peer = peer.String()
	}
	return in.publisher.Dead(ctx, d)
}

func deadReason(err error, tooLong bool) string {
	const cut = "message longer than max_message_bytes (cut)"
	switch {
	case err != nil && tooLong:
		return cut + "; " + err.Error()
	case err != nil:
		return err.Error()
	}
	return cut
}

// counters caches one emitter's Parsed counters by format and status: looking a counter up by its labels
// hashes them, for every line.
type counters struct {
	vec *prometheus.CounterVec
	m   map[[2]string]prometheus.Counter
}

func newCounters(vec *prometheus.CounterVec) *counters {
	return &counters{vec: vec, m: map[[2]string]prometheus.Counter{}}
}

func (c *counters) parsed(listener, format, status string) prometheus.Counter {
	k := [2]string{format, status}
	ctr, ok := c.m[k]
	if !ok {
		ctr = c.vec.WithLabelValues(listener, format, status)
		c.m[k] = ctr
	}
	return ctr
}
