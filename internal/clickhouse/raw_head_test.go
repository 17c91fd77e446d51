package clickhouse_test

import (
	"context"
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// Migration 0010 splits the raw lines already stored (raw_head + message, `raw` an ALIAS): every old
// line must read back unchanged, and a rerun of the migration (after a failure half-way) must not
// change them again.
func TestMigrationSplitsStoredRawLines(t *testing.T) {
	old := map[string][2]string{ // id → message, raw
		"syslog":     {"body text", "<13>Nov 26 04:00:00 host app: body text"},
		"file line":  {"", "1793577600.086 84 10.30.0.30 TCP_MISS/200 10 GET http://a.example/ - HIER_NONE/- -"},
		"transcoded": {"日本", "<13>Nov 26 04:00:00 host app: \x93\xfa\x96\x7b"},
		"middle":     {"body", "<13>head body tail"},
	}
	upgradeKeeps(t, "0010_events_raw_head", "raw", old, func(ctx context.Context, conn driver.Conn, id string, v [2]string) error {
		return conn.Exec(ctx, "INSERT INTO events (id, timestamp, message, raw) VALUES (?, now64(3), ?, ?)", id, v[0], v[1])
	})
}

// upgradeKeeps stores old (id → message, raw line) with insert before migration name, and checks that
// every message and raw line reads back the same after it and after a rerun of it (as after a failure
// half-way), and that it made alias an ALIAS.
func upgradeKeeps(t *testing.T, name, alias string, old map[string][2]string, insert func(context.Context, driver.Conn, string, [2]string) error) {
	t.Helper()
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	before, all := fstest.MapFS{}, fstest.MapFS{}
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("read the migrations: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile("migrations/" + f)
		if err != nil {
			t.Fatal(err)
		}
		all[f] = &fstest.MapFile{Data: data}
		if f < name {
			before[f] = &fstest.MapFile{Data: data}
		}
	}
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db, FS: before}); err != nil {
		t.Fatal(err)
	}
	for id, v := range old {
		if err := insert(ctx, conn, id, v); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		for id, v := range old {
			var message, raw string
			if err := conn.QueryRow(ctx, "SELECT message, raw FROM events WHERE id = ?", id).Scan(&message, &raw); err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if message != v[0] || raw != v[1] {
				t.Errorf("%s: event %q reads message %q, raw %q; was %q, %q", when, id, message, raw, v[0], v[1])
			}
		}
	}
	check("before " + name)
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db, FS: all}); err != nil {
		t.Fatal(err)
	}
	check("after " + name + " and the migrations after it")
	var kind string
	if err := conn.QueryRow(ctx, "SELECT default_kind FROM system.columns WHERE database = ? AND table = 'events' AND name = ?", db, alias).Scan(&kind); err != nil || kind != "ALIAS" {
		t.Fatalf("%s is %q (%v), want an ALIAS", alias, kind, err)
	}
	chtest.RunMigrationAgain(t, conn, db, name)
	check("after a rerun of " + name)
}
