package writer_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/event"
)

func TestCutoff(t *testing.T) {
	tests := []struct {
		now    time.Time
		months int
		want   time.Time
	}{
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), 12, time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), 1, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC), 13, time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)},
		// 2026-03-01 08:00 in Tokyo is still February in UTC, and partitions are UTC months.
		{time.Date(2026, 3, 1, 8, 0, 0, 0, time.FixedZone("JST", 9*3600)), 1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := writer.Cutoff(tt.now, tt.months); !got.Equal(tt.want) {
			t.Errorf("Cutoff(%v, %d) = %v, want %v", tt.now, tt.months, got, tt.want)
		}
	}
}

// TestRetentionDropsOldMonths puts events (and through the views, rollups) and dead letters into several
// months and checks which partitions Plan picks and that Apply drops exactly those.
func TestRetentionDropsOldMonths(t *testing.T) {
	conn, db := migrated(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	monthsAgo := []int{0, 1, 2, 5, 13, 14, 20}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO events (id, timestamp, ingested, source_zone, observer_host)")
	if err != nil {
		t.Fatal(err)
	}
	d, err := conn.PrepareBatch(ctx, "INSERT INTO dead_letters (id, received, listener, reason, raw)")
	if err != nil {
		t.Fatal(err)
	}
	for _, ago := range monthsAgo {
		ts := now.AddDate(0, -ago, 0)
		for i := range 3 {
			ts := ts.Add(time.Duration(i) * time.Hour)
			if err := b.Append(event.NewID(ts), ts, ts, "lgwan", "fw-core"); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Append(event.NewID(ts), ts, "syslog-tcp", "PRI", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(); err != nil {
		t.Fatal(err)
	}

	r := writer.Retention{Database: db, Months: map[string]int{
		"events":            13, // keeps 2025-10 … 2026-11
		"events_hourly":     3,  // keeps 2026-08 …
		"dead_letters":      0,  // forever
		"schema_migrations": 1,  // not partitioned by month: never touched
		"no_such_table":     1,
	}}
	drops, err := r.Plan(ctx, conn, now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range drops {
		got = append(got, d.Table+"/"+d.PartitionID)
		if d.Rows != 3 {
			t.Errorf("%s/%s: %d rows, want 3", d.Table, d.PartitionID, d.Rows)
		}
	}
	want := []string{"events/202503", "events_hourly/202503", "events/202509", "events_hourly/202509",
		"events_hourly/202510", "events_hourly/202606"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Plan:\n got %v\nwant %v", got, want)
	}
	if err := r.Apply(ctx, conn, drops); err != nil {
		t.Fatal(err)
	}
	counts := []struct {
		query string
		want  uint64
	}{
		{"SELECT count() FROM events", 3 * 5},
		{"SELECT count() FROM events WHERE timestamp < '2025-10-01'", 0},
		{"SELECT sum(events) FROM events_hourly", 3 * 3},
		{"SELECT count() FROM dead_letters", uint64(len(monthsAgo))},
		{"SELECT count() FROM source_health_hourly", 3 * uint64(len(monthsAgo))},
	}
	for _, c := range counts {
		if got := count(t, conn, c.query); got != c.want {
			t.Errorf("after Apply: %s = %d, want %d", c.query, got, c.want)
		}
	}
	if again, err := r.Plan(ctx, conn, now); err != nil || len(again) != 0 {
		t.Errorf("Plan after Apply: %v, %v; want nothing", again, err)
	}
	if err := (writer.Retention{Months: map[string]int{"events": -1}}).Validate(); err == nil {
		t.Error("negative months accepted")
	}
}

// Every monthly table of the schema has a default retention: a rollup added without one would be kept
// forever.
func TestDefaultRetentionCoversEveryMonthlyTable(t *testing.T) {
	conn, db := migrated(t)
	rows, err := conn.Query(context.Background(), "SELECT name FROM system.tables WHERE database = ? AND startsWith(partition_key, 'toYYYYMM(') ORDER BY name", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	months := writer.DefaultRetentionMonths()
	n := 0
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		n++
		if _, ok := months[name]; !ok {
			t.Errorf("table %s is partitioned by month but has no default retention in writer.DefaultRetentionMonths", name)
		}
	}
	if n < 5 {
		t.Fatalf("found %d monthly tables in %s: the query does not see the schema", n, db)
	}
}
