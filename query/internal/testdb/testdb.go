// Package testdb gives query's tests a database with the schema they read: the events table of
// internal/clickhouse's migrations and the tables of query/migrations-to-add (audit, api_tokens),
// applied with clickhouse.Migrate. Only the migrations query needs are applied, so that work in
// progress on other tables does not break query's tests.
package testdb

import (
	"slices"
	"testing"
	"testing/fstest"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// Needed names the migrations of internal/clickhouse that shape the events table (the rollups and
// alerts are left out: query's tests create what they need of them).
var Needed = []string{"0001_events", "0002_dead_letters", "0003_writer_dedup", "0006_events_codecs", "0007_audit", "0008_api_tokens", "0010_events_raw_head"}

// New returns a connection to a fresh database (dropped after the test) holding the events table
// and query's own tables, and the database's name. It skips like chtest without a server. extra
// names more migrations to apply (0004_alerts, 0005_rollups).
func New(t testing.TB, extra ...string) (driver.Conn, string) {
	t.Helper()
	conn, db := chtest.NewDatabase(t)
	fsys, err := Migrations(extra...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clickhouse.Migrate(t.Context(), conn, clickhouse.MigrateOptions{Database: db, FS: fsys}); err != nil {
		t.Fatalf("testdb: migrate %s: %v", db, err)
	}
	return conn, db
}

// Migrations returns the migrations New applies (Needed and extra), as a file system for
// clickhouse.MigrateOptions.
func Migrations(extra ...string) (fstest.MapFS, error) {
	all, err := clickhouse.LoadMigrations(nil)
	if err != nil {
		return nil, err
	}
	fsys := fstest.MapFS{}
	for _, m := range all {
		for _, n := range append(slices.Clone(Needed), extra...) {
			if m.Name == n {
				fsys[m.Name+".sql"] = &fstest.MapFile{Data: []byte(m.SQL)}
			}
		}
	}
	return fsys, nil
}
