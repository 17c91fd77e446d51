// Package run runs the rule engine as a pipeline stage: a durable JetStream consumer of the events
// stream evaluates every event, and each alert goes to the subject zw.alerts.<severity> (with its id as
// the message id), to ClickHouse's alerts table, and then to the notifiers. Events are acknowledged only
// after their alerts are stored, so a crash replays them; alert ids are derived from rule, group and
// first event, so a replay raises the same ids, which are looked up in the alerts table and dropped:
// one row each, one notification each.
//
// Window state is saved to a file on stop and every minute, and restored at start: a crash loses at most
// the last minute of window state (alerts whose events straddle the crash may be missed, never doubled).
//
// With a rules directory the stage reloads it when its files change or on a signal (SIGHUP); a rule set
// that does not load is refused (logged with its lint messages, counted in
// zonewatch_rules_reload_failures_total) and the previous set keeps running; unchanged rules keep their
// windows.
//
// Scaling out: N rule processes, each with Options.Partition {Index, Count}, each read the whole stream
// through a durable consumer of its own (rules-<index>-of-<count>) and evaluate only the group keys they
// own (see rules.Partition). Every process decodes every event, but each condition runs in one process
// only, and a windowed rule sees every event of a key in exactly one process. The other way, partitioned
// subjects through NATS subject mapping, splits the stream itself but on one key for all rules, while the
// rules group by different fields (source.ip, user.name, observer.hostname …): it would need a second hop
// that republishes each match on its rule's key. Changing Count starts new consumers, which read the
// stream from its start (raising the same alert ids again, dropped as replays), and new window-state
// files.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/rules"
)

// Notifier receives the alerts once they are stored. It must not block evaluation: queue and return.
type Notifier interface {
	Notify(alerts []rules.Alert)
}

// Options configure a Runner.
type Options struct {
	JS       jetstream.JetStream
	CH       driver.Conn
	Database string
	// Engine evaluates the events. When nil, New loads RulesDir and makes one with Partition.
	Engine *rules.Engine
	// RulesDir, when set, is watched: the rules are reloaded when its files change and on Reload.
	RulesDir string
	// Load is how RulesDir is loaded (zones, hosts, calendars).
	Load rules.LoadOptions
	// Reload triggers a reload when it receives (SIGHUP).
	Reload <-chan os.Signal
	// Debounce is how long file changes must settle before a reload; default 300ms.
	Debounce time.Duration
	// Partition is this process's share of the group keys when rules run in several processes.
	Partition rules.Partition
	// Notifier, when set, gets every stored alert.
	Notifier Notifier
	// Durable is the consumer's name; default "rules", or "rules-<index>-of-<count>" when partitioned.
	Durable string
	// StateFile keeps the engine's window state across restarts; "" keeps none.
	StateFile string
	// BatchSize is about how many events one Fetch brings (default 2000); messages carry one or more.
	BatchSize    int
	TickInterval time.Duration
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
}

// Runner is the rules stage.
type Runner struct {
	o          Options
	cons       jetstream.Consumer
	loader     *rules.Loader
	watching   chan struct{} // closed once the rules directory is watched
	watchOnce  sync.Once
	events     prometheus.Counter
	alerts     *prometheus.CounterVec
	failures   prometheus.Counter
	replayed   prometheus.Counter
	reloadFail prometheus.Counter
	reloadOK   prometheus.Gauge
	loaded     prometheus.Gauge
}

// New creates or updates the durable consumer and restores saved window state.
func New(ctx context.Context, o Options) (*Runner, error) {
	if err := o.Partition.Validate(); err != nil {
		return nil, err
	}
	if o.Durable == "" {
		o.Durable = natsbus.ConsumerRules
		if o.Partition.Active() {
			o.Durable += "-" + o.Partition.String()
		}
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
	r := &Runner{o: o, watching: make(chan struct{}),
		events:   prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_rules_events_total", Help: "Events evaluated by the rules."}),
		alerts:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonewatch_rules_alerts_total", Help: "Alerts raised, by rule and severity."}, []string{"rule", "severity"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_rules_store_failures_total", Help: "Times alerts could not be stored; the events are retried."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_rules_alerts_replayed_total",
			Help: "Alerts raised again by replayed events (already stored and notified: dropped)."}),
		reloadFail: prometheus.NewCounter(prometheus.CounterOpts{Name: "zonewatch_rules_reload_failures_total",
			Help: "Rule sets refused on reload (they do not load; the previous set keeps running, the log says why)."}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "zonewatch_rules_last_reload_success_timestamp_seconds",
			Help: "When the rule set in force was loaded (Unix time)."}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "zonewatch_rules_loaded", Help: "Rules in the set in force."}),
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(r.events, r.alerts, r.failures, r.replayed, r.reloadFail, r.reloadOK, r.loaded)
	}
	if err := r.loadRules(ctx); err != nil {
		return nil, err
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

// loadRules loads RulesDir (when set) and makes the Engine (when not given).
func (r *Runner) loadRules(ctx context.Context) error {
	o := &r.o
	if o.RulesDir != "" {
		r.loader = rules.NewLoader(rules.LoaderOptions{Load: o.Load, Logger: o.Logger, Reload: o.Reload, Debounce: o.Debounce,
			OnError: func(error) { r.reloadFail.Inc(); r.watched() }})
		rs, err := r.loader.Load(ctx, o.RulesDir)
		if err != nil {
			return fmt.Errorf("rules in %s do not load:\n%w\n(check them with: zonewatch rules lint %s)", o.RulesDir, err, o.RulesDir)
		}
		if o.Engine != nil {
			o.Engine.SetRules(rs)
		}
	}
	if o.Engine == nil {
		if r.loader == nil {
			return errors.New("rules stage: give Options.Engine or Options.RulesDir")
		}
		en, err := rules.NewEngine(rules.Options{Rules: r.loader.Current(), Logger: o.Logger, Partition: o.Partition})
		if err != nil {
			return err
		}
		o.Engine = en
	}
	r.loaded.Set(float64(len(o.Engine.Rules().Rules)))
	r.reloadOK.SetToCurrentTime()
	return nil
}

// Watching is closed once the rules directory is watched: a change made after it is reloaded.
func (r *Runner) Watching() <-chan struct{} { return r.watching }

// watched marks the watch as started (its first reload, done or refused).
func (r *Runner) watched() { r.watchOnce.Do(func() { close(r.watching) }) }

// Engine is the engine evaluating the events.
func (r *Runner) Engine() *rules.Engine { return r.o.Engine }

// watch reloads the rules until ctx ends.
func (r *Runner) watch(ctx context.Context) {
	if r.loader == nil {
		return
	}
	err := r.loader.Watch(ctx, r.o.RulesDir, func(rs *rules.RuleSet) {
		r.o.Engine.SetRules(rs)
		r.loaded.Set(float64(len(rs.Rules)))
		r.reloadOK.SetToCurrentTime()
		r.watched()
	})
	if err != nil {
		r.o.Logger.Error("rules: not watching the rules directory; restart to reload", "dir", r.o.RulesDir, "err", err)
	}
}

// Run evaluates until ctx ends, then saves the window state.
func (r *Runner) Run(ctx context.Context) error {
	defer r.save()
	watchCtx, stopWatch := context.WithCancel(ctx)
	watching := make(chan struct{})
	go func() { defer close(watching); r.watch(watchCtx) }()
	defer func() { stopWatch(); <-watching }()
	tick := time.NewTicker(r.o.TickInterval)
	defer tick.Stop()
	lastSave := time.Now()
	// A message carries one or more events: a Fetch asks for about BatchSize events' worth of messages,
	// judged by the last batch, and starts small so that a backlog of full messages is not one huge batch.
	perMsg := 256 // ingest's default batch (pipeline.DefaultMaxBatchEvents)
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
		batch, err := r.cons.Fetch(max(1, r.o.BatchSize/perMsg), jetstream.FetchMaxWait(500*time.Millisecond))
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
		events := 0
		for m := range batch.Messages() {
			msgs = append(msgs, m)
			// A message holds one or more events as NDJSON (see pipeline.Publisher). event.Decode is
			// goccy/go-json, as the writer: about 5× encoding/json, and every partition decodes every event.
			event.SplitBatch(m.Data(), func(line []byte) {
				var e event.Event
				if err := event.Decode(line, &e); err != nil {
					return // the writer keeps undecodable events as dead letters
				}
				events++
				r.events.Inc()
				alerts = append(alerts, r.o.Engine.Eval(&e)...)
			})
		}
		if len(msgs) > 0 {
			perMsg = max(1, (events+len(msgs)-1)/len(msgs))
		}
		r.store(ctx, alerts, msgs)
	}
	return nil
}

// store publishes and inserts alerts with backoff until both succeed, then acks the events.
func (r *Runner) store(ctx context.Context, alerts []rules.Alert, msgs []jetstream.Msg) {
	backoff := 200 * time.Millisecond
	for len(alerts) > 0 {
		fresh, err := r.fresh(ctx, alerts)
		if err == nil && len(fresh) > 0 {
			err = r.publish(ctx, fresh)
		}
		if err == nil && len(fresh) > 0 {
			err = r.insert(ctx, fresh)
		}
		if err == nil {
			for _, a := range fresh {
				r.alerts.WithLabelValues(a.RuleID, a.Severity).Inc()
			}
			r.replayed.Add(float64(len(alerts) - len(fresh)))
			if r.o.Notifier != nil && len(fresh) > 0 {
				r.o.Notifier.Notify(fresh)
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

// fresh returns the alerts whose ids the alerts table does not hold yet. Replayed events (after a crash
// before their ack, or read from the stream's start by a new consumer when rules.partition changes)
// raise the same alert ids again: they are neither stored nor published nor notified again, so the SOC
// is not paged twice for one incident. An alert stored just before a crash
// and not yet handed to the notifier is not notified on the replay: it is on the dashboards.
func (r *Runner) fresh(ctx context.Context, alerts []rules.Alert) ([]rules.Alert, error) {
	ids := make([]string, len(alerts))
	ruleIDs := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i], ruleIDs[i] = a.ID, a.RuleID
	}
	rows, err := r.o.CH.Query(ctx, "SELECT DISTINCT id FROM `"+r.o.Database+"`.alerts WHERE rule_id IN (?) AND id IN (?)", ruleIDs, ids)
	if err != nil {
		return nil, fmt.Errorf("look up %d alert ids in %s.alerts: %w", len(ids), r.o.Database, err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		return alerts, nil
	}
	var fresh []rules.Alert
	for _, a := range alerts {
		if !stored[a.ID] {
			fresh = append(fresh, a)
		}
	}
	return fresh, nil
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
