package clickhouse_test

import (
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

func TestMigrateFreshThenNoop(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	opts := clickhouse.MigrateOptions{Database: db, Logger: testLogger(t)}
	applied, err := clickhouse.Migrate(ctx, conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	all, err := clickhouse.LoadMigrations(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(all) || applied[0] != "0001_events" {
		t.Fatalf("first run applied %v, want all %d migrations starting with 0001_events", applied, len(all))
	}
	again, err := clickhouse.Migrate(ctx, conn, opts)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run: applied %v, err %v; want nothing, nil", again, err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".schema_migrations FINAL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int(n) != len(all) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(all))
	}
}

// eventColumns is the events table as the brief fixes it, in order.
var eventColumns = []string{
	"id", "timestamp", "ingested", "observer_host", "observer_ip", "observer_zone",
	"listener", "source_type", "parse_status", "parse_error",
	"category", "action", "outcome", "severity", "facility",
	"source_ip", "source_port", "source_zone", "source_host",
	"destination_ip", "destination_port", "destination_zone", "destination_host",
	"cross_zone", "transport", "app_protocol",
	"user_name", "url_domain", "url_original", "http_method", "http_status", "url_category", "user_agent",
	"bytes_out", "bytes_in", "process_name", "message_template", "message", "raw_head", "raw_whole", "verbatim", "raw", "labels",
}

func TestEventsTableColumns(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db}); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = 'events' ORDER BY position", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		names, types[name] = append(names, name), typ
	}
	if !slices.Equal(names, eventColumns) {
		t.Errorf("events columns\n got %v\nwant %v", names, eventColumns)
	}
	for col, want := range map[string]string{
		"timestamp": "DateTime64(3, 'UTC')", "source_ip": "IPv6", "cross_zone": "Bool",
		"labels": "Map(LowCardinality(String), String)", "bytes_out": "UInt64", "source_zone": "LowCardinality(String)",
	} {
		if types[col] != want {
			t.Errorf("column %s has type %s, want %s", col, types[col], want)
		}
	}
}

func TestMigrateRefusesChangedMigration(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	orig := fstest.MapFS{"0001_first.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS {{.Database}}.a (x UInt8) ENGINE = MergeTree ORDER BY x;\n")}}
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db, FS: orig}); err != nil {
		t.Fatal(err)
	}
	edited := fstest.MapFS{
		"0001_first.sql":  {Data: []byte("CREATE TABLE IF NOT EXISTS {{.Database}}.a (x UInt16) ENGINE = MergeTree ORDER BY x;\n")},
		"0002_second.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS {{.Database}}.b (x UInt8) ENGINE = MergeTree ORDER BY x;\n")},
	}
	applied, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db, FS: edited})
	if err == nil || !strings.Contains(err.Error(), "0001_first") || !strings.Contains(err.Error(), "must not change") {
		t.Fatalf("edited migration: applied %v, err %v; want a refusal naming 0001_first", applied, err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = 'b'", db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("0002 ran although 0001 was refused")
	}
}

func TestMigrateConcurrent(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var dup uint64
	q := "SELECT count() FROM (SELECT version FROM " + db + ".schema_migrations FINAL GROUP BY version HAVING count() > 1)"
	if err := conn.QueryRow(ctx, q).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Errorf("%d versions recorded more than once after FINAL", dup)
	}
}

func TestMigrateRejects(t *testing.T) {
	conn, _ := chtest.NewDatabase(t)
	for name, tc := range map[string]struct {
		opts clickhouse.MigrateOptions
		want string
	}{
		"database name": {clickhouse.MigrateOptions{Database: "x; DROP TABLE y"}, "not a plain identifier"},
		"file name":     {clickhouse.MigrateOptions{Database: "d", FS: fstest.MapFS{"1_x.sql": {}}}, "NNNN_lower_snake_name.sql"},
		"version zero":  {clickhouse.MigrateOptions{Database: "d", FS: fstest.MapFS{"0000_x.sql": {}}}, "start at 0001"},
		"same version":  {clickhouse.MigrateOptions{Database: "d", FS: fstest.MapFS{"0001_a.sql": {}, "0001_b.sql": {}}}, "share version 1"},
		"unknown field": {clickhouse.MigrateOptions{Database: "d", FS: fstest.MapFS{"0001_a.sql": {Data: []byte("SELECT {{.Nope}};")}}}, "template"},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "unknown field" {
				// Template errors show only when the migration runs: give it its own database.
				_, db := chtest.NewDatabase(t)
				tc.opts.Database = db
			}
			_, err := clickhouse.Migrate(t.Context(), conn, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestMigrationStatements(t *testing.T) {
	for name, tc := range map[string]struct {
		sql  string
		want []string
	}{
		"one":          {"CREATE TABLE {{.Database}}.t (x UInt8)\nENGINE = Memory;\n", []string{"CREATE TABLE db.t (x UInt8)\nENGINE = Memory"}},
		"no final ;":   {"SELECT 1", []string{"SELECT 1"}},
		"two":          {"SELECT 1;\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		"comments":     {"-- header;\nSELECT 1; \n-- trailing note\n", []string{"-- header;\nSELECT 1"}},
		"inline ;":     {"SELECT ';' AS s,\n 2;\n", []string{"SELECT ';' AS s,\n 2"}},
		"only comment": {"-- nothing here\n", nil},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := clickhouse.Migration{Name: "0001_x", SQL: tc.sql}.Statements("db")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Statements() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEventRoundTrip(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db}); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 25, 9, 30, 15, 123_000_000, time.UTC)
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".events (id, timestamp, ingested, observer_ip, source_ip, source_port, source_zone, destination_ip, destination_port, destination_zone, cross_zone, user_name, url_domain, bytes_out, labels)")
	if err != nil {
		t.Fatal(err)
	}
	err = b.Append("00112233445566778899aabbccddeeff", ts, ts.Add(time.Second), net.ParseIP("192.0.2.1"),
		net.ParseIP("10.1.2.3").To4(), uint16(51515), "office", net.ParseIP("2001:db8::7"), uint16(443), "internet",
		true, "taro", "example.jp", uint64(12345), map[string]string{"site": "tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	var (
		srcIP, dstIP, obsIP net.IP
		gotTS               time.Time
		cross               bool
		labels              map[string]string
	)
	err = conn.QueryRow(ctx, "SELECT source_ip, destination_ip, observer_ip, timestamp, cross_zone, labels FROM "+db+".events WHERE user_name = 'taro'").
		Scan(&srcIP, &dstIP, &obsIP, &gotTS, &cross, &labels)
	if err != nil {
		t.Fatal(err)
	}
	if srcIP.To4() == nil || srcIP.String() != "10.1.2.3" {
		t.Errorf("source_ip = %v (len %d), want 10.1.2.3 as IPv4-mapped", srcIP, len(srcIP))
	}
	if obsIP.String() != "192.0.2.1" || dstIP.String() != "2001:db8::7" {
		t.Errorf("observer_ip %v, destination_ip %v; want 192.0.2.1, 2001:db8::7", obsIP, dstIP)
	}
	var mapped string
	if err := conn.QueryRow(ctx, "SELECT toString(source_ip) FROM "+db+".events").Scan(&mapped); err != nil {
		t.Fatal(err)
	}
	if mapped != "::ffff:10.1.2.3" {
		t.Errorf("stored source_ip = %s, want ::ffff:10.1.2.3", mapped)
	}
	if !gotTS.Equal(ts) || !cross || labels["site"] != "tokyo" {
		t.Errorf("timestamp %v, cross_zone %v, labels %v", gotTS, cross, labels)
	}
}
