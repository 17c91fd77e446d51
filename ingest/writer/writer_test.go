package writer_test

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

func TestEventsRoundTrip(t *testing.T) {
	conn, db := migrated(t)
	b := startBus(t, natsbus.StreamOptions{})
	ts := time.Date(2026, 11, 2, 0, 15, 1, 123_000_000, time.UTC)
	full := event.Event{ID: event.NewID(ts), Timestamp: ts, Message: "メッセージ", Labels: map[string]string{"policyid": "7"}}
	full.Meta = event.Meta{Ingested: ts.Add(time.Second), Module: "fortigate", Category: "network", Action: "deny", Outcome: "failure",
		Severity: 4, CrossZone: true, Original: "<189>date=2026-11-02 … 日本語"}
	full.Observer = event.Observer{Hostname: "fw-core", IP: netip.MustParseAddr("10.0.0.1"), Zone: "mgmt"}
	full.Source = event.Endpoint{IP: netip.MustParseAddr("10.10.1.5"), Port: 50123, Zone: "mynumber", Host: "pc-1", Bytes: 1234}
	full.Destination = event.Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 445, Zone: "lgwan", Host: "fs", Bytes: 1 << 40}
	full.Network = event.Network{Transport: "tcp", Protocol: "smb"}
	full.User.Name = "tanaka"
	full.URL = event.URL{Original: "https://example.jp/a?b=c", Domain: "example.jp", Category: "business"}
	full.HTTP = event.HTTP{Method: "GET", Status: 200, UserAgent: "curl/8"}
	full.Process.Name = "sshd"
	full.Log = event.Log{Listener: "syslog-tcp", Facility: 23, ParseStatus: "ok", ParseError: ""}
	bare := event.Event{ID: event.NewID(ts), Timestamp: ts}
	bare.Meta.Ingested = ts
	bare.Log.ParseStatus = event.ParseFailed

	b.publish(t, []event.Event{full, bare})
	runWriter(t, writer.Options{JS: b.js, CH: conn, Database: db, FlushInterval: 100 * time.Millisecond})
	waitFor(t, 30*time.Second, "2 rows", func() bool { return count(t, conn, "SELECT count() FROM events") == 2 })

	for _, want := range []event.Event{full, bare} {
		t.Run(want.Log.ParseStatus, func(t *testing.T) {
			var got event.Event
			var oip, sip, dip net.IP
			err := conn.QueryRow(context.Background(), `SELECT id, timestamp, ingested, observer_host, observer_ip, observer_zone, listener,
				source_type, parse_status, parse_error, category, action, outcome, severity, facility,
				source_ip, source_port, source_zone, source_host, destination_ip, destination_port, destination_zone, destination_host,
				cross_zone, transport, app_protocol, user_name, url_domain, url_original, http_method, http_status, url_category,
				user_agent, bytes_out, bytes_in, process_name, message, raw, labels FROM events WHERE id = ?`, want.ID).Scan(
				&got.ID, &got.Timestamp, &got.Meta.Ingested, &got.Observer.Hostname, &oip, &got.Observer.Zone, &got.Log.Listener,
				&got.Meta.Module, &got.Log.ParseStatus, &got.Log.ParseError, &got.Meta.Category, &got.Meta.Action, &got.Meta.Outcome,
				&got.Meta.Severity, &got.Log.Facility, &sip, &got.Source.Port, &got.Source.Zone, &got.Source.Host,
				&dip, &got.Destination.Port, &got.Destination.Zone, &got.Destination.Host, &got.Meta.CrossZone,
				&got.Network.Transport, &got.Network.Protocol, &got.User.Name, &got.URL.Domain, &got.URL.Original,
				&got.HTTP.Method, &got.HTTP.Status, &got.URL.Category, &got.HTTP.UserAgent, &got.Source.Bytes, &got.Destination.Bytes,
				&got.Process.Name, &got.Message, &got.Meta.Original, &got.Labels)
			if err != nil {
				t.Fatal(err)
			}
			got.Observer.IP, got.Source.IP, got.Destination.IP = addr(oip), addr(sip), addr(dip)
			got.Timestamp, got.Meta.Ingested = got.Timestamp.UTC(), got.Meta.Ingested.UTC()
			if len(got.Labels) == 0 {
				got.Labels = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// addr undoes the writer's IPv4-mapped storage; :: is "no address".
func addr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	if a == netip.IPv6Unspecified() {
		return netip.Addr{}
	}
	return a.Unmap()
}

func TestWritersShareTheWork(t *testing.T) {
	conn, db := migrated(t)
	b := startBus(t, natsbus.StreamOptions{})
	const n = 30000
	o := writer.Options{JS: b.js, CH: conn, Database: db, BatchSize: 1000, FlushInterval: 100 * time.Millisecond}
	_, reg1 := runWriter(t, o)
	_, reg2 := runWriter(t, o)
	b.publish(t, genEvents(1, n, time.Now(), 24*time.Hour))
	waitFor(t, 60*time.Second, "all events inserted", func() bool {
		return metric(t, reg1, "zonewatch_writer_rows_inserted_total")+metric(t, reg2, "zonewatch_writer_rows_inserted_total") >= n
	})
	requireExactly(t, conn, n)
	w1, w2 := metric(t, reg1, "zonewatch_writer_rows_inserted_total"), metric(t, reg2, "zonewatch_writer_rows_inserted_total")
	if w1 == 0 || w2 == 0 {
		t.Errorf("one writer did all the work: %v and %v rows", w1, w2)
	}
	t.Logf("writer 1 inserted %v rows, writer 2 %v; mean batch %.0f messages, %.3fs", w1, w2,
		metric(t, reg1, "zonewatch_writer_batch_messages"), metric(t, reg1, "zonewatch_writer_batch_seconds"))
}

// TestRedeliveryAfterInsertWithoutAck: a writer inserts and dies before it acknowledges (simulated with
// the Fault.SkipAck fault injection, since a SIGKILL cannot be timed between two statements); JetStream
// redelivers to a second writer, which finds the ids in ClickHouse and inserts nothing.
func TestRedeliveryAfterInsertWithoutAck(t *testing.T) {
	conn, db := migrated(t)
	b := startBus(t, natsbus.StreamOptions{})
	const n = 5000
	b.publish(t, genEvents(2, n, time.Now(), time.Hour))
	o := writer.Options{JS: b.js, CH: conn, Database: db, BatchSize: 2000, FlushInterval: 100 * time.Millisecond, AckWait: 2 * time.Second}

	faulty := o
	faulty.Fault.SkipAck = true
	stopFaulty, reg1 := runWriter(t, faulty)
	waitFor(t, 30*time.Second, "the faulty writer to insert everything", func() bool {
		return metric(t, reg1, "zonewatch_writer_rows_inserted_total") == n
	})
	stopFaulty() // dies holding n unacknowledged messages
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
	if got := metric(t, reg2, "zonewatch_writer_rows_inserted_total"); got != 0 {
		t.Errorf("second writer inserted %v rows, want 0", got)
	}
	if got := count(t, conn, "SELECT sum(events) FROM events_hourly"); got != n {
		t.Errorf("events_hourly counts %d events, want %d", got, n)
	}
}

// TestRetriedInsertIsStoredOnce checks the schema side of the second mechanism: the same INSERT sent twice
// with the same insert_deduplication_token (as the writer does on a retry) is stored once, and the
// rollups see it once; different batches whose rollup rows happen to be identical are both counted.
func TestRetriedInsertIsStoredOnce(t *testing.T) {
	ctx := context.Background()
	e := genEvents(3, 1, time.Now(), time.Hour)[0]
	tests := []struct {
		name   string
		tokens []string // one INSERT of the same event per token, its id suffixed by the token
		want   uint64
	}{
		{"retry with the same token", []string{"a", "a"}, 1},
		{"different batches alike", []string{"a", "b"}, 2},
		{"retry of one of two", []string{"a", "b", "a", "b"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, _ := migrated(t)
			for _, token := range tt.tokens {
				b, err := conn.PrepareBatch(chContext(ctx, token), "INSERT INTO events (id, timestamp, ingested, source_zone, outcome, observer_host, user_name)")
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Append(e.ID+"-"+token, e.Timestamp, e.Meta.Ingested, e.Source.Zone, e.Meta.Outcome, e.Observer.Hostname, "tanaka"); err != nil {
					t.Fatal(err)
				}
				if err := b.Send(); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range []string{"SELECT count() FROM events", "SELECT sum(events) FROM events_hourly",
				"SELECT sum(events) FROM source_health_hourly", "SELECT sum(events) FROM user_activity_15m"} {
				if got := count(t, conn, q); got != tt.want {
					t.Errorf("%s = %d, want %d", q, got, tt.want)
				}
			}
		})
	}
}

func TestUndecodableMessagesBecomeDeadLetters(t *testing.T) {
	conn, db := migrated(t)
	b := startBus(t, natsbus.StreamOptions{})
	ctx := context.Background()
	for _, body := range []string{"not json", `{"id":""}`} {
		if _, err := b.js.Publish(ctx, "zw.events.lgwan.fortigate", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.js.Publish(ctx, "zw.dead.syslog-tcp", []byte(`{"id":"d1","received":"2026-11-02T00:00:00Z","listener":"syslog-tcp","reason":"PRI","raw":"x"}`)); err != nil {
		t.Fatal(err)
	}
	b.publish(t, genEvents(4, 10, time.Now(), time.Minute))
	_, reg := runWriter(t, writer.Options{JS: b.js, CH: conn, Database: db, FlushInterval: 100 * time.Millisecond})
	waitFor(t, 30*time.Second, "3 dead letters and 10 events", func() bool {
		return count(t, conn, "SELECT count() FROM dead_letters") == 3 && count(t, conn, "SELECT count() FROM events") == 10
	})
	if got := metric(t, reg, "zonewatch_writer_undecodable_total"); got != 2 {
		t.Errorf("undecodable = %v, want 2", got)
	}
	if got := count(t, conn, "SELECT count() FROM dead_letters WHERE listener = 'bus' AND reason LIKE 'undecodable message on zw.events.lgwan.fortigate%'"); got != 2 {
		t.Errorf("bus dead letters = %d, want 2", got)
	}
}

func TestStreamMonitorWarnsNearTheLimit(t *testing.T) {
	b := startBus(t, natsbus.StreamOptions{MaxBytes: 64 << 10})
	ctx := context.Background()
	tests := []struct {
		name      string
		fill      int // bytes of payload published
		wantAbove bool
	}{
		{"empty", 0, false},
		{"half", 30 << 10, false},
		{"near full", 24 << 10, true}, // cumulative: 54 KiB of 64 KiB plus headers
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for sent := 0; sent < tt.fill; sent += 1024 {
				if _, err := b.js.Publish(ctx, "zw.events.lgwan.x", make([]byte, 1024)); err != nil {
					t.Fatal(err)
				}
			}
			f, err := writer.CheckStream(ctx, b.js, natsbus.StreamEvents, "-")
			if err != nil {
				t.Fatal(err)
			}
			if (f.Ratio > 0.8) != tt.wantAbove {
				t.Errorf("fill %.2f (%d of %d bytes), want above 0.8: %v", f.Ratio, f.Bytes, f.MaxBytes, tt.wantAbove)
			}
		})
	}
	reg := prometheus.NewRegistry()
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		writer.MonitorStreams(mctx, writer.MonitorOptions{JS: b.js, Interval: 20 * time.Millisecond, Logger: quiet(), Registerer: reg})
	}()
	waitFor(t, 10*time.Second, "zonewatch_jetstream_stream_near_limit{stream=ZW_EVENTS} = 1", func() bool {
		return labelled(t, reg, "zonewatch_jetstream_stream_near_limit", natsbus.StreamEvents) == 1
	})
	cancel()
	<-done
}

// TestReplayAfterPartialCommit: an INSERT that ClickHouse committed into events but not into a rollup
// (a server killed between the two, emulated here by detaching the view for the first attempt) is
// completed by the writer's retry, which resends the identical INSERT with the same token: events and
// the rollups that had it drop it as a repeat, the rollup that missed it takes it.
func TestReplayAfterPartialCommit(t *testing.T) {
	conn, _ := migrated(t)
	ctx := context.Background()
	events := genEvents(8, 50, time.Now(), time.Hour)
	insert := func() {
		b, err := conn.PrepareBatch(chContext(ctx, "same-token"), "INSERT INTO events (id, timestamp, ingested, source_zone, user_name)")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if err := b.Append(e.ID, e.Timestamp, e.Meta.Ingested, e.Source.Zone, "tanaka"); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Exec(ctx, "DETACH TABLE events_hourly_mv"); err != nil {
		t.Fatal(err)
	}
	insert() // the first attempt: events, source_health_hourly and user_activity_15m, not events_hourly
	if err := conn.Exec(ctx, "ATTACH TABLE events_hourly_mv"); err != nil {
		t.Fatal(err)
	}
	insert() // the retry
	for _, q := range []string{"SELECT count() FROM events", "SELECT sum(events) FROM events_hourly",
		"SELECT sum(events) FROM source_health_hourly", "SELECT sum(events) FROM user_activity_15m"} {
		if got := count(t, conn, q); got != 50 {
			t.Errorf("%s = %d, want 50", q, got)
		}
	}
}
