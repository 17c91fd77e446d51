// Package run runs the rule engine as a pipeline stage: a durable JetStream consumer of the events
// stream evaluates every event, and each alert goes to the subject zw.alerts.<severity> (with its id as
// the message id) and to ClickHouse's alerts table. Events are acknowledged only after their alerts are
// stored, so a crash replays them; alert ids are derived from rule, group and first event, so a replay
// raises the same ids and the alerts table (a ReplacingMergeTree on id) keeps one row each.
//
// Window state is saved to a file on stop and every minute, and restored at start: a crash loses at most
// the last minute of window state (alerts whose events straddle the crash may be missed, never doubled).
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/rules"
)

// Options configure a Runner.
type Options struct {
	JS       jetstream.JetStream
	CH       driver.Conn
	Database string
	Engine   *rules.Engine
	// Durable is the consumer's name.
	Durable string
	// StateFile keeps the engine's window state across restarts; "" keeps none.
	StateFile    string
	BatchSize    int
	TickInterval time.Duration
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
}

// Runner is the rules stage.
type Runner struct {
	o        Options
	cons     jetstream.Consumer
	events   prometheus.Counter
	alerts   *prometheus.CounterVec
	failures prometheus.Counter
}

// New creates or updates the durable consumer and restores saved window state.
func New(ctx context.Context, o Options) (*Runner, error) {
	if o.Durable == "" {
		o.Durable = natsbus.ConsumerRules
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 2000
	}
	if o.TickInterval <= 0 {
		o.TickInterval = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Runner{o: o,
		events:   prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_rules_events_total", Help: "Events evaluated by the rules."}),
		alerts:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_rules_alerts_total", Help: "Alerts raised, by rule and severity."}, []string{"rule", "severity"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_rules_store_failures_total", Help: "Times alerts could not be stored; the events are retried."}),
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(r.events, r.alerts, r.failures)
	}
	var err error
	r.cons, err = o.JS.CreateOrUpdateConsumer(ctx, natsbus.StreamEvents, jetstream.ConsumerConfig{
		Durable: o.Durable, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 60 * time.Second,
		MaxAckPending: o.BatchSize * 4, MaxDeliver: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("rules consumer %s on %s: %w", o.Durable, natsbus.StreamEvents, err)
	}
	r.restore()
	return r, nil
}

// Run evaluates until ctx ends, then saves the window state.
func (r *Runner) Run(ctx context.Context) error {
	defer r.save()
	tick := time.NewTicker(r.o.TickInterval)
	defer tick.Stop()
	lastSave := time.Now()
	for ctx.Err() == nil {
		select {
		case now := <-tick.C:
			r.store(ctx, r.o.Engine.Tick(now), nil)
		default:
		}
		if time.Since(lastSave) > time.Minute {
			r.save()
			lastSave = time.Now()
		}
		batch, err := r.cons.Fetch(r.o.BatchSize, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.o.Logger.Warn("rules: fetch from JetStream failed; retrying", "err", err)
			time.Sleep(time.Second)
			continue
		}
		var msgs []jetstream.Msg
		var alerts []rules.Alert
		for m := range batch.Messages() {
			msgs = append(msgs, m)
			var e event.Event
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				continue // the writer keeps undecodable messages as dead letters
			}
			r.events.Inc()
			alerts = append(alerts, r.o.Engine.Eval(&e)...)
		}
		r.store(ctx, alerts, msgs)
	}
	return nil
}

// store publishes and inserts alerts with backoff until both succeed, then acks the events.
func (r *Runner) store(ctx context.Context, alerts []rules.Alert, msgs []jetstream.Msg) {
	backoff := 200 * time.Millisecond
	for len(alerts) > 0 {
		err := r.publish(ctx, alerts)
		if err == nil {
			err = r.insert(ctx, alerts)
		}
		if err == nil {
			for _, a := range alerts {
				r.alerts.WithLabelValues(a.RuleID, a.Severity).Inc()
			}
			break
		}
		if ctx.Err() != nil {
			return // not acked: replayed after a restart, with the same alert ids
		}
		r.failures.Inc()
		r.o.Logger.Warn("rules: storing alerts failed; retrying", "alerts", len(alerts), "err", err, "retry_in", backoff)
		for _, m := range msgs {
			_ = m.InProgress()
		}
		time.Sleep(backoff)
		backoff = min(backoff*2, 30*time.Second)
	}
	for _, m := range msgs {
		_ = m.Ack()
	}
}

func (r *Runner) publish(ctx context.Context, alerts []rules.Alert) error {
	for i := range alerts {
		b, err := json.Marshal(&alerts[i])
		if err != nil {
			return err
		}
		msg := &nats.Msg{Subject: alerts[i].Subject(), Data: b, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, alerts[i].ID)
		if _, err := r.o.JS.PublishMsg(ctx, msg); err != nil {
			return fmt.Errorf("publish alert %s: %w", alerts[i].ID, err)
		}
	}
	return nil
}

func (r *Runner) insert(ctx context.Context, alerts []rules.Alert) error {
	b, err := r.o.CH.PrepareBatch(ctx, "INSERT INTO `"+r.o.Database+"`.alerts (id, rule_id, title_ja, title_en, severity, kind, tags, group_key, `group`, count, distinct_count, event_ids, event_ids_omitted, zones, first_seen, last_seen, suppressed, status, created)")
	if err != nil {
		return fmt.Errorf("prepare insert into alerts: %w", err)
	}
	defer func() { _ = b.Abort() }()
	for _, a := range alerts {
		group := a.Group
		if group == nil {
			group = map[string]string{}
		}
		if err := b.Append(a.ID, a.RuleID, a.Title.Ja, a.Title.En, a.Severity, a.Kind, nonNil(a.Tags), a.GroupKey, group,
			uint64(a.Count), uint64(a.Distinct), nonNil(a.EventIDs), uint64(a.EventIDsOmitted), nonNil(a.Zones),
			a.FirstSeen, a.LastSeen, uint64(a.Suppressed), "open", a.Created); err != nil {
			return fmt.Errorf("append alert %s: %w", a.ID, err)
		}
	}
	return b.Send()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (r *Runner) save() {
	if r.o.StateFile == "" {
		return
	}
	b, err := json.Marshal(r.o.Engine.Snapshot())
	if err == nil {
		tmp := r.o.StateFile + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, r.o.StateFile)
		}
	}
	if err != nil {
		r.o.Logger.Warn("rules: could not save window state", "file", r.o.StateFile, "err", err)
	}
}

func (r *Runner) restore() {
	if r.o.StateFile == "" {
		return
	}
	b, err := os.ReadFile(r.o.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var s rules.Snapshot
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err == nil {
		var skipped []string
		if skipped, err = r.o.Engine.Restore(s); len(skipped) > 0 {
			r.o.Logger.Info("rules: window state of changed or removed rules not restored", "rules", skipped)
		}
	}
	if err != nil {
		r.o.Logger.Warn("rules: saved window state not restored; windows start empty", "file", r.o.StateFile, "err", err)
	}
}
