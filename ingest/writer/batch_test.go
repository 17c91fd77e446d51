package writer_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// TestBatchedMessagesStoredOnce: ingest's Publisher carries several events per message; the stream holds
// fewer messages than events, and the writer stores every event exactly once, also when a whole batch
// of such messages is redelivered after an insert without ack (Fault.SkipAck, as in
// TestRedeliveryAfterInsertWithoutAck: a SIGKILL cannot be timed between the INSERT and the acks).
func TestBatchedMessagesStoredOnce(t *testing.T) {
	conn, db := migrated(t)
	b := startBus(t, natsbus.StreamOptions{})
	const n = 6000
	metrics := pipeline.NewMetrics(nil)
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: b.js, Metrics: metrics, MaxBatchEvents: 64, Logger: quiet()})
	events := genEvents(11, n, time.Now(), 6*time.Hour)
	for i := range events {
		if err := pub.Event(t.Context(), &events[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, err := b.js.Stream(t.Context(), natsbus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// 6000 events of 16 subjects in batches of at most 64: at least 94 messages, far fewer than events.
	if msgs := info.State.Msgs; msgs < n/64 || msgs > n/4 {
		t.Fatalf("the stream holds %d messages for %d events, want between %d and %d", msgs, n, n/64, n/4)
	}
	t.Logf("%d events in %d messages", n, info.State.Msgs)

	o := writer.Options{JS: b.js, CH: conn, Database: db, BatchSize: 2000, FlushInterval: 100 * time.Millisecond, AckWait: 2 * time.Second, MonitorInterval: -1}
	faulty := o
	faulty.Fault.SkipAck = true
	stopFaulty, reg1 := runWriter(t, faulty)
	waitFor(t, 60*time.Second, "the faulty writer to insert every event", func() bool {
		return metric(t, reg1, "zonewatch_writer_rows_inserted_total") == n
	})
	stopFaulty()
	requireExactly(t, conn, n)

	_, reg2 := runWriter(t, o)
	waitFor(t, 60*time.Second, "the redelivery to be handled", func() bool {
		pending, ackPending, _ := b.consumerState(t)
		return pending == 0 && ackPending == 0
	})
	requireExactly(t, conn, n)
	if got := metric(t, reg2, "zonewatch_writer_duplicates_skipped_total"); got != n {
		t.Errorf("duplicates skipped = %v, want %d", got, n)
	}
	if got := count(t, conn, "SELECT sum(events) FROM events_hourly"); got != n {
		t.Errorf("events_hourly counts %d events, want %d", got, n)
	}
	// The events are the ones published, field by field where it matters most.
	want := map[string]string{}
	for _, e := range events {
		want[e.ID] = e.Meta.Original
	}
	rows, err := conn.Query(t.Context(), "SELECT id, raw FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			t.Fatal(err)
		}
		if w, ok := want[id]; !ok || w != raw {
			t.Fatalf("event %s: raw %q, want %q (known: %v)", id, raw, w, ok)
		}
	}
}

// TestUndecodableLineInBatch: a line of a message that is not an event becomes a dead letter of its own
// (its own id, its own text); the message's other events are written.
func TestUndecodableLineInBatch(t *testing.T) {
	conn, db := migrated(t)
	b := startBus(t, natsbus.StreamOptions{})
	events := genEvents(12, 3, time.Now(), time.Hour)
	var lines []string
	for i, e := range events {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(data))
		if i == 0 {
			lines = append(lines, `{"id":"cut`, `{"message":"no id"}`)
		}
	}
	msg := &nats.Msg{Subject: natsbus.EventSubject("lgwan", "sshd"), Data: []byte(strings.Join(lines, "\n") + "\n"), Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, events[0].ID+"+5")
	if _, err := b.js.PublishMsg(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	_, reg := runWriter(t, writer.Options{JS: b.js, CH: conn, Database: db, BatchSize: 100, FlushInterval: 100 * time.Millisecond, MonitorInterval: -1})
	waitFor(t, 30*time.Second, "the events and dead letters", func() bool {
		return metric(t, reg, "zonewatch_writer_rows_inserted_total") == 3 && metric(t, reg, "zonewatch_writer_dead_letters_inserted_total") == 2
	})
	requireExactly(t, conn, 3)
	if got := metric(t, reg, "zonewatch_writer_undecodable_total"); got != 2 {
		t.Errorf("undecodable = %v, want 2", got)
	}
	rows, err := conn.Query(context.Background(), "SELECT id, reason, raw FROM dead_letters ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, reason, raw string
		if err := rows.Scan(&id, &reason, &raw); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(reason, "undecodable event (line") || !strings.Contains(id, "zw.events.lgwan.sshd") {
			t.Errorf("dead letter %s: reason %q", id, reason)
		}
		got = append(got, id[strings.LastIndex(id, "-"):]+" "+raw)
	}
	if want := []string{`-2 {"id":"cut`, `-3 {"message":"no id"}`}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("dead letters %q, want %q", got, want)
	}
}
