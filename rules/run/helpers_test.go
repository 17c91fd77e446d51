package run_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/internal/natsbus/natstest"
	"github.com/zonewatch/zonewatch/rules"
	"github.com/zonewatch/zonewatch/rules/run"
)

// startJS starts an embedded JetStream server with zonewatch's streams.
func startJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	return natstest.Start(t, natsbus.StreamOptions{}).JS
}

// publish puts events on the stream as ingest does and waits until JetStream has them all.
func publish(t *testing.T, js jetstream.JetStream, events []*event.Event) {
	t.Helper()
	for _, e := range events {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		msg := &nats.Msg{Subject: natsbus.EventSubject(e.Source.Zone, e.Meta.Module), Data: data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, e.ID)
		if _, err := js.PublishMsgAsync(msg); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		t.Fatal("JetStream did not acknowledge the publishes in 60s")
	}
}

// publishBatched publishes events through ingest's Publisher, several per message (NDJSON), and checks
// that the stream holds fewer messages than events.
func publishBatched(t *testing.T, js jetstream.JetStream, events []*event.Event) {
	t.Helper()
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: js, MaxBatchEvents: 50, Logger: quiet()})
	for _, e := range events {
		if err := pub.Event(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), natsbus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs == 0 || info.State.Msgs >= uint64(len(events)) {
		t.Fatalf("%d events in %d messages: not batched", len(events), info.State.Msgs)
	}
}

// migrated returns a fresh database with zonewatch's schema.
func migrated(t *testing.T) (driver.Conn, string) {
	t.Helper()
	conn, db := chtest.NewDatabase(t)
	if _, err := clickhouse.Migrate(context.Background(), conn, clickhouse.MigrateOptions{Database: db}); err != nil {
		t.Fatal(err)
	}
	return conn, db
}

// recorder is a Notifier that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	alerts []rules.Alert
}

func (r *recorder) Notify(as []rules.Alert) {
	r.mu.Lock()
	r.alerts = append(r.alerts, as...)
	r.mu.Unlock()
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, a := range r.alerts {
		out = append(out, a.ID)
	}
	slices.Sort(out)
	return out
}

// stage is a running rules stage.
type stage struct {
	r       *run.Runner
	reg     *prometheus.Registry
	durable string
}

// startStage runs a rules stage until the test ends.
func startStage(t *testing.T, o run.Options) *stage {
	t.Helper()
	reg := prometheus.NewRegistry()
	o.Registerer = reg
	o.Logger = quiet()
	r, err := run.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("rules stage: %v", err)
		}
	})
	durable := o.Durable
	if durable == "" {
		durable = natsbus.ConsumerRules
		if o.Partition.Active() {
			durable += "-" + o.Partition.String()
		}
	}
	return &stage{r: r, reg: reg, durable: durable}
}

// drained waits until the stage's consumer has every event of the stream acknowledged, that is
// evaluated and its alerts stored.
func (s *stage) drained(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c, err := js.Consumer(ctx, natsbus.StreamEvents, s.durable)
		if err != nil {
			t.Fatalf("consumer %s: %v", s.durable, err)
		}
		ci, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumPending == 0 && ci.NumAckPending == 0 {
			return
		}
		last = fmt.Sprintf("%d pending, %d unacknowledged", ci.NumPending, ci.NumAckPending)
	}
	t.Fatalf("consumer %s not drained in 60s: %s", s.durable, last)
}

// metric reads a counter or gauge without labels.
func (s *stage) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// waitMetric polls until the metric satisfies ok.
func (s *stage) waitMetric(t *testing.T, name string, ok func(float64) bool) {
	t.Helper()
	var v float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if v = s.metric(t, name); ok(v) {
			return
		}
	}
	t.Fatalf("%s stayed at %v", name, v)
}

// alertRows returns "rule group first_seen id" of every row of the alerts table (duplicates included).
func alertRows(t *testing.T, conn driver.Conn, db string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT rule_id, group_key, first_seen, id FROM `"+db+"`.alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var rule, group, id string
		var first time.Time
		if err := rows.Scan(&rule, &group, &first, &id); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", rule, group, first.UTC().Format(time.RFC3339Nano), id))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func quiet() *slog.Logger {
	if testing.Verbose() && os.Getenv("ZW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
