package clickhouse_test

import (
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// Migration 0013 turns `message` into an ALIAS over message_template: every message stored before it
// must read back unchanged (they are verbatim: a control byte of their own is text, not a reference),
// and so must the raw lines, also after a rerun of the migration (after a failure half-way).
func TestMigrationKeepsStoredMessages(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	all := migrateBefore(t, conn, db, "0013")
	old := map[string][2]string{ // id → message, raw
		"syslog":            {"body 10.30.0.25 443", "<13>Nov 26 04:00:00 host app: body 10.30.0.25 443"},
		"control bytes":     {"a\x06b\x0fc\x01", "<13>Nov 26 04:00:00 host app: a\x06b\x0fc\x01"},
		"header with a ref": {"x", "<13>\x10 host app: x"},
		"transcoded":        {"日本", "<13>Nov 26 04:00:00 host app: \x93\xfa\x96\x7b"},
		"empty":             {"", ""},
	}
	for id, v := range old {
		if err := conn.Exec(ctx, `INSERT INTO events (id, timestamp, source_ip, source_port, user_name, message, raw_head, raw_whole)
			SELECT ?, now64(3), toIPv6('10.30.0.25'), 443, 'u', ?, if(endsWith(?, ?), substring(?, 1, length(?) - length(?)), ?), NOT endsWith(?, ?)`,
			id, v[0], v[1], v[0], v[1], v[1], v[0], v[1], v[1], v[0]); err != nil {
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
	check("before 0013")
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db, FS: all}); err != nil {
		t.Fatal(err)
	}
	check("after 0013")
	var kind string
	if err := conn.QueryRow(ctx, "SELECT default_kind FROM system.columns WHERE database = ? AND table = 'events' AND name = 'message'", db).Scan(&kind); err != nil || kind != "ALIAS" {
		t.Fatalf("message is %q (%v), want an ALIAS", kind, err)
	}
	chtest.RunMigrationAgain(t, conn, db, "0013_events_message_template")
	check("after a rerun")
}

// migrateBefore applies the migrations whose names sort before prefix and returns every migration, for
// a test of what a later one does to rows stored before it.
func migrateBefore(t *testing.T, conn driver.Conn, db, prefix string) fstest.MapFS {
	t.Helper()
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
		if f < prefix {
			before[f] = &fstest.MapFile{Data: data}
		}
	}
	if _, err := clickhouse.Migrate(t.Context(), conn, clickhouse.MigrateOptions{Database: db, FS: before}); err != nil {
		t.Fatal(err)
	}
	return all
}
