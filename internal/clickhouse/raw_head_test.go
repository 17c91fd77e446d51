package clickhouse_test

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// Migration 0010 splits the raw lines already stored (raw_head + message, `raw` an ALIAS): every old
// line must read back unchanged, and a rerun of the migration (after a failure half-way) must not
// change them again.
func TestMigrationSplitsStoredRawLines(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	all := migrateBefore(t, conn, db, "0010")
	old := map[string][2]string{ // id → message, raw
		"syslog":     {"body text", "<13>Nov 26 04:00:00 host app: body text"},
		"file line":  {"", "1793577600.086 84 10.30.0.30 TCP_MISS/200 10 GET http://a.example/ - HIER_NONE/- -"},
		"transcoded": {"日本", "<13>Nov 26 04:00:00 host app: \x93\xfa\x96\x7b"},
		"middle":     {"body", "<13>head body tail"},
	}
	for id, v := range old {
		if err := conn.Exec(ctx, "INSERT INTO events (id, timestamp, message, raw) VALUES (?, now64(3), ?, ?)", id, v[0], v[1]); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		for id, v := range old {
			var raw string
			if err := conn.QueryRow(ctx, "SELECT raw FROM events WHERE id = ?", id).Scan(&raw); err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if raw != v[1] {
				t.Errorf("%s: event %q: raw reads %q, was %q", when, id, raw, v[1])
			}
		}
	}
	applied, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db, FS: all})
	if err != nil || len(applied) == 0 {
		t.Fatalf("migrate from 0009: applied %v, %v", applied, err)
	}
	check("after 0010")
	var kind string
	if err := conn.QueryRow(ctx, "SELECT default_kind FROM system.columns WHERE database = ? AND table = 'events' AND name = 'raw'", db).Scan(&kind); err != nil || kind != "ALIAS" {
		t.Fatalf("raw is %q (%v), want an ALIAS", kind, err)
	}
	// A rerun of the file's statements, as after a failure half-way, leaves the lines as they are.
	chtest.RunMigrationAgain(t, conn, db, "0010_events_raw_head")
	check("after a rerun")
}
