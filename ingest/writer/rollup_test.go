package writer_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// TestRollupsAgreeWithRawEvents writes several thousand generated events through the writer, in many
// batches, and checks every rollup against the same aggregation over the raw events table.
func TestRollupsAgreeWithRawEvents(t *testing.T) {
	conn, db := migrated(t)
	b := startBus(t, natsbus.StreamOptions{})
	const n = 8000
	b.publish(t, genEvents(7, n, time.Now(), 72*time.Hour))
	_, reg := runWriter(t, writer.Options{JS: b.js, CH: conn, Database: db, BatchSize: 700, FlushInterval: 100 * time.Millisecond})
	waitFor(t, 120*time.Second, "all events", func() bool { return metric(t, reg, "zonewatch_writer_rows_inserted_total") == n })
	requireExactly(t, conn, n)

	tests := []struct {
		name, rollup, raw string
	}{
		{"events_hourly",
			`SELECT toString(tuple(hour, source_zone, destination_zone, observer_zone, action, source_type, sum(events), sum(denied), sum(bytes_out), sum(bytes_in)))
			 FROM events_hourly GROUP BY hour, source_zone, destination_zone, observer_zone, action, source_type`,
			`SELECT toString(tuple(toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, action, source_type,
			 count(), countIf(outcome = 'failure'), sum(bytes_out), sum(bytes_in)))
			 FROM events GROUP BY hour, source_zone, destination_zone, observer_zone, action, source_type`},
		{"user_zones_hourly",
			`SELECT toString(tuple(hour, source_zone, destination_zone, observer_zone, user_name, sum(events), sum(denied), sum(bytes_out), sum(bytes_in)))
			 FROM user_zones_hourly GROUP BY hour, source_zone, destination_zone, observer_zone, user_name`,
			`SELECT toString(tuple(toStartOfHour(timestamp) AS hour, source_zone, destination_zone, observer_zone, user_name,
			 count(), countIf(outcome = 'failure'), sum(bytes_out), sum(bytes_in)))
			 FROM events GROUP BY hour, source_zone, destination_zone, observer_zone, user_name`},
		{"proxy_categories_hourly",
			`SELECT toString(tuple(hour, url_category, source_zone, sum(events), sum(blocked)))
			 FROM proxy_categories_hourly GROUP BY hour, url_category, source_zone`,
			`SELECT toString(tuple(toStartOfHour(timestamp) AS hour, url_category, source_zone, count(), countIf(outcome = 'failure')))
			 FROM events WHERE url_category != '' GROUP BY hour, url_category, source_zone`},
		{"source_health_hourly",
			`SELECT toString(tuple(hour, observer_host, source_type, listener, max(last_timestamp), max(last_ingested), sum(events), sum(unparsed)))
			 FROM source_health_hourly GROUP BY hour, observer_host, source_type, listener`,
			`SELECT toString(tuple(toStartOfHour(ingested) AS hour, observer_host, source_type, listener, max(timestamp), max(ingested),
			 count(), countIf(parse_status != 'ok')))
			 FROM events GROUP BY hour, observer_host, source_type, listener`},
		{"user_activity_15m",
			`SELECT toString(tuple(bucket, user_name, source_zone, source_type, sum(events), sum(failures)))
			 FROM user_activity_15m GROUP BY bucket, user_name, source_zone, source_type`,
			`SELECT toString(tuple(toStartOfFifteenMinutes(timestamp) AS bucket, user_name, source_zone, source_type,
			 count(), countIf(outcome = 'failure')))
			 FROM events WHERE user_name != '' GROUP BY bucket, user_name, source_zone, source_type`},
	}
	for _, r := range writer.Rollups {
		if !slices.ContainsFunc(tests, func(tt struct{ name, rollup, raw string }) bool { return tt.name == r.Table }) {
			t.Errorf("rollup %s is not checked against the raw events here: add it", r.Table)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := texts(t, conn, tt.rollup), texts(t, conn, tt.raw)
			if len(want) < 10 {
				t.Fatalf("only %d groups in the raw events: the generator does not exercise this rollup", len(want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("rollup has %d groups, raw events %d; first difference: %s", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func texts(t *testing.T, conn driver.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return "rollup " + got[i] + " vs raw " + want[i]
		}
	}
	return "one is a prefix of the other"
}

func TestLastSeen(t *testing.T) {
	conn, db := migrated(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	type src struct {
		host, typ, listener string
		ip                  netip.Addr
		ago                 []time.Duration // arrival times before now
	}
	sources := []src{
		{"fw-core", "fortigate", "syslog-tcp", netip.MustParseAddr("10.0.0.1"), []time.Duration{time.Minute, 2 * time.Minute, 30 * time.Hour}},
		{"srv01", "sshd", "syslog-tcp", netip.MustParseAddr("10.20.1.5"), []time.Duration{3 * time.Hour}},
		{"sw00", "syslog", "syslog-udp", netip.MustParseAddr("10.30.1.250"), []time.Duration{50 * time.Hour, 51 * time.Hour}},
	}
	var events []event.Event
	for _, s := range sources {
		for _, ago := range s.ago {
			e := event.Event{ID: event.NewID(now.Add(-ago)), Timestamp: now.Add(-ago - time.Second)}
			e.Meta.Ingested = now.Add(-ago)
			e.Observer.Hostname, e.Observer.IP, e.Meta.Module, e.Log.Listener = s.host, s.ip, s.typ, s.listener
			e.Log.ParseStatus = event.ParseOK
			if s.typ == "syslog" {
				e.Log.ParseStatus = event.ParseEnvelope
			}
			events = append(events, e)
		}
	}
	b := startBus(t, natsbus.StreamOptions{})
	b.publish(t, events)
	_, reg := runWriter(t, writer.Options{JS: b.js, CH: conn, Database: db, FlushInterval: 100 * time.Millisecond})
	waitFor(t, 30*time.Second, "the events", func() bool { return metric(t, reg, "zonewatch_writer_rows_inserted_total") == float64(len(events)) })

	got, err := writer.LastSeen(context.Background(), conn, db)
	if err != nil {
		t.Fatal(err)
	}
	want := []writer.SourceHealth{
		{ObserverHost: "sw00", SourceType: "syslog", Listener: "syslog-udp", ObserverIP: sources[2].ip, LastEvent: now.Add(-50*time.Hour - time.Second),
			LastIngested: now.Add(-50 * time.Hour), Total: 2},
		{ObserverHost: "srv01", SourceType: "sshd", Listener: "syslog-tcp", ObserverIP: sources[1].ip, LastEvent: now.Add(-3*time.Hour - time.Second),
			LastIngested: now.Add(-3 * time.Hour), EventsLastDay: 1, Total: 1},
		{ObserverHost: "fw-core", SourceType: "fortigate", Listener: "syslog-tcp", ObserverIP: sources[0].ip, LastEvent: now.Add(-time.Minute - time.Second),
			LastIngested: now.Add(-time.Minute), EventsLastHour: 2, EventsLastDay: 2, Total: 3},
	}
	if len(got) != len(want) {
		t.Fatalf("LastSeen: %d sources, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		// A source 2 minutes old may straddle the hour: then it is in the previous hour, still "last hour".
		if g != w {
			t.Errorf("source %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if d := got[0].SilentFor(now); d != 50*time.Hour {
		t.Errorf("sw00 silent for %v, want 50h", d)
	}
}

// TestOffHoursByUser checks the calendar hook against the raw events, with a calendar that puts duty
// from 08:30 to 17:15 Tokyo time (23:30–08:15 UTC) for everyone but "sato", who is always off.
func TestOffHoursByUser(t *testing.T) {
	conn, db := migrated(t)
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	b := startBus(t, natsbus.StreamOptions{})
	const n = 4000
	b.publish(t, genEvents(14, n, end, 3*24*time.Hour))
	_, reg := runWriter(t, writer.Options{JS: b.js, CH: conn, Database: db, BatchSize: 1000, FlushInterval: 100 * time.Millisecond})
	waitFor(t, 60*time.Second, "all events", func() bool { return metric(t, reg, "zonewatch_writer_rows_inserted_total") == n })

	tokyo := time.FixedZone("JST", 9*3600)
	off := func(user string, tm time.Time) bool {
		if user == "sato" {
			return true
		}
		l := tm.In(tokyo)
		m := l.Hour()*60 + l.Minute()
		return m < 8*60+30 || m >= 17*60+15
	}
	from, to := end.Add(-48*time.Hour), end
	got, err := writer.OffHoursByUser(context.Background(), conn, db, from, to, off)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 5 {
		t.Fatalf("only %d users", len(got))
	}
	for _, u := range got {
		var events, offHours, offFailures uint64
		rows, err := conn.Query(context.Background(), "SELECT timestamp, outcome FROM events WHERE user_name = ? AND timestamp >= ? AND timestamp < ?", u.User, from, to)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var ts time.Time
			var outcome string
			if err := rows.Scan(&ts, &outcome); err != nil {
				t.Fatal(err)
			}
			events++
			if off(u.User, ts) {
				offHours++
				if outcome == event.OutcomeFailure {
					offFailures++
				}
			}
		}
		rows.Close()
		if u.Events != events || u.OffHours != offHours || u.OffHoursFailures != offFailures {
			t.Errorf("%s: rollup %+v; raw events %d, off hours %d, off-hours failures %d", u.User, u, events, offHours, offFailures)
		}
		if u.User == "sato" && u.OffHours != u.Events {
			t.Errorf("sato: %d of %d events off hours, want all", u.OffHours, u.Events)
		}
	}
}

// TestRebuildRollups: a rollup that missed events (its view detached while they were written, as after
// a partial commit) is repaired from events, and rebuilding a consistent range changes nothing.
func TestRebuildRollups(t *testing.T) {
	conn, db := migrated(t)
	ctx := context.Background()
	end := time.Now().UTC().Truncate(time.Hour)
	events := genEvents(15, 3000, end, 12*time.Hour)
	if err := conn.Exec(ctx, "DETACH TABLE events_hourly_mv"); err != nil {
		t.Fatal(err)
	}
	b := startBus(t, natsbus.StreamOptions{})
	b.publish(t, events[:1000])
	_, reg := runWriter(t, writer.Options{JS: b.js, CH: conn, Database: db, BatchSize: 500, FlushInterval: 100 * time.Millisecond})
	waitFor(t, 60*time.Second, "the first events", func() bool { return metric(t, reg, "zonewatch_writer_rows_inserted_total") == 1000 })
	if err := conn.Exec(ctx, "ATTACH TABLE events_hourly_mv"); err != nil {
		t.Fatal(err)
	}
	b.publish(t, events[1000:])
	waitFor(t, 60*time.Second, "the rest", func() bool { return metric(t, reg, "zonewatch_writer_rows_inserted_total") == 3000 })
	if got := count(t, conn, "SELECT sum(events) FROM events_hourly"); got != 2000 {
		t.Fatalf("events_hourly before the rebuild: %d, want 2000 (the view missed 1000)", got)
	}
	for range 2 {
		if err := writer.RebuildRollups(ctx, conn, db, end.Add(-13*time.Hour), end.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, r := range writer.Rollups {
			raw := "SELECT count() FROM events"
			switch r.Table {
			case "proxy_categories_hourly":
				raw += " WHERE url_category != ''"
			case "user_activity_15m":
				raw += " WHERE user_name != ''"
			}
			if got, want := count(t, conn, "SELECT sum(events) FROM "+r.Table), count(t, conn, raw); got != want {
				t.Errorf("%s after the rebuild: %d events, raw %d", r.Table, got, want)
			}
		}
	}
	got := texts(t, conn, `SELECT toString(tuple(hour, source_zone, destination_zone, action, source_type, sum(events), sum(denied), sum(bytes_out), sum(bytes_in)))
		FROM events_hourly GROUP BY hour, source_zone, destination_zone, action, source_type`)
	want := texts(t, conn, `SELECT toString(tuple(toStartOfHour(timestamp) AS hour, source_zone, destination_zone, action, source_type,
		count(), countIf(outcome = 'failure'), sum(bytes_out), sum(bytes_in))) FROM events GROUP BY hour, source_zone, destination_zone, action, source_type`)
	if !slices.Equal(got, want) {
		t.Errorf("events_hourly after the rebuild differs from raw events: %s", firstDiff(got, want))
	}
}
