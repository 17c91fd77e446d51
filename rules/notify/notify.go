// Package notify sends alerts to people: a webhook (JSON POST) and e-mail over SMTP, routed per rule by
// severity, rule id and tag, with a rate limit per receiver so that a storm of alerts does not flood
// anyone. What the limit holds back is counted and sent as one digest ("N more alerts suppressed") when
// the storm is over.
//
// Notification never blocks evaluation: Notify only routes and queues. Each receiver has a bounded queue
// and a worker of its own that sends with retries; a full queue drops the message, and drops, failures
// and suppressions are counted in metrics and logged. The alerts themselves are already stored
// (JetStream, ClickHouse) when they are notified; a notification lost here is never the only record.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/zonewatch/zonewatch/rules"
)

// Sender delivers one message to one receiver; Webhook and Email are the two kinds.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// Receiver is a named destination with its rate limit.
type Receiver struct {
	Name   string
	Sender Sender
	// PerMinute is the rate at which messages go out once Burst is spent; 0 means no limit.
	PerMinute float64
	// Burst is how many alerts may go out at once; default 10.
	Burst int
	// DigestAfter is how long no alert must have been held back before the digest of the held-back ones
	// goes out (the storm is over); default 1m. During a longer storm a digest goes out at least every
	// DigestEvery (default 15m), so nobody is left thinking all is quiet.
	DigestAfter time.Duration
	DigestEvery time.Duration
}

// Options configure a Dispatcher.
type Options struct {
	Receivers []Receiver
	Routes    []Route
	// QueueSize bounds each receiver's queue; default 1000. A full queue drops (and counts) the message.
	QueueSize int
	// Tick is how often digests are checked; default 1s.
	Tick time.Duration
	// Now is the clock; default time.Now.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Dispatcher routes alerts to receivers.
type Dispatcher struct {
	o         Options
	receivers map[string]*receiver
	order     []string

	sent       *prometheus.CounterVec
	failures   *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	suppressed *prometheus.CounterVec
}

type receiver struct {
	Receiver
	queue   chan *Message
	limiter *rate.Limiter

	mu     sync.Mutex
	digest *Digest // alerts held back since the last digest; nil when none
}

// New checks the routes against the receivers and makes a Dispatcher; Run starts it.
func New(o Options) (*Dispatcher, error) {
	if o.QueueSize <= 0 {
		o.QueueSize = 1000
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	d := &Dispatcher{o: o, receivers: map[string]*receiver{},
		sent:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_notify_sent_total", Help: "Notifications delivered, by receiver and kind (alert, digest)."}, []string{"receiver", "kind"}),
		failures:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_notify_failures_total", Help: "Notifications given up after their retries, by receiver."}, []string{"receiver"}),
		dropped:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_notify_dropped_total", Help: "Notifications dropped because the receiver's queue was full (or zonewatch stopped), by receiver."}, []string{"receiver"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_notify_suppressed_total", Help: "Alerts held back by the receiver's rate limit (counted in the next digest), by receiver."}, []string{"receiver"}),
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(d.sent, d.failures, d.dropped, d.suppressed)
	}
	for _, r := range o.Receivers {
		if r.Name == "" || r.Sender == nil {
			return nil, fmt.Errorf("notify: receiver %q needs a name and a sender (webhook or email)", r.Name)
		}
		if _, dup := d.receivers[r.Name]; dup {
			return nil, fmt.Errorf("notify: receiver %q is named twice", r.Name)
		}
		if r.Burst <= 0 {
			r.Burst = 10
		}
		if r.DigestAfter <= 0 {
			r.DigestAfter = time.Minute
		}
		if r.DigestEvery <= 0 {
			r.DigestEvery = 15 * time.Minute
		}
		limit := rate.Inf
		if r.PerMinute > 0 {
			limit = rate.Limit(r.PerMinute / 60)
		}
		d.receivers[r.Name] = &receiver{Receiver: r, queue: make(chan *Message, o.QueueSize), limiter: rate.NewLimiter(limit, r.Burst)}
		d.order = append(d.order, r.Name)
		for _, kind := range []string{KindAlert, KindDigest} {
			d.sent.WithLabelValues(r.Name, kind)
		}
		d.failures.WithLabelValues(r.Name)
		d.dropped.WithLabelValues(r.Name)
		d.suppressed.WithLabelValues(r.Name)
	}
	for i, rt := range o.Routes {
		if err := rt.check(); err != nil {
			return nil, fmt.Errorf("notify: routes[%d]: %w", i, err)
		}
		for _, name := range rt.Receivers {
			if d.receivers[name] == nil {
				return nil, fmt.Errorf("notify: routes[%d] names receiver %q, which is not defined (receivers: %v)", i, name, d.order)
			}
		}
	}
	return d, nil
}

// Notify routes the alerts and queues them; it never blocks.
func (d *Dispatcher) Notify(alerts []rules.Alert) {
	now := d.o.Now()
	for i := range alerts {
		a := &alerts[i]
		for _, name := range d.route(a) {
			d.admit(d.receivers[name], a, now)
		}
	}
}

// route returns the receivers of an alert: those of every route that matches it, each once.
func (d *Dispatcher) route(a *rules.Alert) []string {
	var out []string
	for _, rt := range d.o.Routes {
		if !rt.Matches(a) {
			continue
		}
		for _, name := range rt.Receivers {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// admit sends the alert if the receiver's rate allows, else adds it to the digest.
func (d *Dispatcher) admit(r *receiver, a *rules.Alert, now time.Time) {
	if !r.limiter.AllowN(now, 1) {
		r.mu.Lock()
		if r.digest == nil {
			r.digest = &Digest{First: now, Rules: map[string]int{}}
		}
		r.digest.Suppressed++
		r.digest.Rules[a.RuleID]++
		r.digest.Last = now
		r.mu.Unlock()
		d.suppressed.WithLabelValues(r.Name).Inc()
		return
	}
	alert := *a
	d.enqueue(r, &Message{Kind: KindAlert, Receiver: r.Name, Alert: &alert})
}

func (d *Dispatcher) enqueue(r *receiver, m *Message) {
	select {
	case r.queue <- m:
	default:
		d.dropped.WithLabelValues(r.Name).Inc()
		d.o.Logger.Warn("notify: queue full; notification dropped (the alert is stored all the same)", "receiver", r.Name, "kind", m.Kind, "queue", cap(r.queue))
	}
}

// digests sends the digest of every receiver whose storm is over (or has lasted DigestEvery).
func (d *Dispatcher) digests(now time.Time) {
	for _, name := range d.order {
		r := d.receivers[name]
		r.mu.Lock()
		dg := r.digest
		due := dg != nil && (now.Sub(dg.Last) >= r.DigestAfter || now.Sub(dg.First) >= r.DigestEvery)
		if due {
			r.digest = nil
		}
		r.mu.Unlock()
		if due {
			d.enqueue(r, &Message{Kind: KindDigest, Receiver: r.Name, Digest: dg})
		}
	}
}

// Run sends until ctx ends; what is still queued then is dropped and counted.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, name := range d.order {
		r := d.receivers[name]
		wg.Add(1)
		go func() { defer wg.Done(); d.work(ctx, r) }()
	}
	tick := time.NewTicker(d.o.Tick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			for _, name := range d.order {
				r := d.receivers[name]
				if n := len(r.queue); n > 0 {
					d.dropped.WithLabelValues(name).Add(float64(n))
					d.o.Logger.Warn("notify: stopping with notifications still queued; they are dropped (the alerts are stored)", "receiver", name, "queued", n)
				}
			}
			return nil
		case <-tick.C:
			d.digests(d.o.Now())
		}
	}
}

func (d *Dispatcher) work(ctx context.Context, r *receiver) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-r.queue:
			err := r.Sender.Send(ctx, m)
			switch {
			case err == nil:
				d.sent.WithLabelValues(r.Name, m.Kind).Inc()
			case errors.Is(err, context.Canceled) && ctx.Err() != nil:
				d.dropped.WithLabelValues(r.Name).Inc()
			default:
				d.failures.WithLabelValues(r.Name).Inc()
				d.o.Logger.Error("notify: notification not delivered", "receiver", r.Name, "kind", m.Kind, "alert", m.alertID(), "error", err)
			}
		}
	}
}
