package clickhouse_test

import (
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// TestSettledEventsRecompressed: events that arrived over a day ago are written (and merged) with
// ZSTD(15), events that arrived now with the default LZ4, and the text columns follow the part
// (migration 0011); the columns queries scan keep LZ4.
func TestSettledEventsRecompressed(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db}); err != nil {
		t.Fatal(err)
	}
	// Wide parts, so that system.parts_columns has each column's size.
	if err := conn.Exec(ctx, "ALTER TABLE events MODIFY SETTING min_bytes_for_wide_part = 0"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	// Each arrival gets events of its own month, so that it lands in its own partition and part.
	for _, b := range []struct {
		arrived time.Time
		month   time.Time
	}{
		{now.Add(-49 * time.Hour), thisMonth.AddDate(0, -6, 0)}, // settled
		{now, thisMonth.AddDate(0, -3, 0)},                      // new
	} {
		if err := conn.Exec(ctx, `INSERT INTO events (id, timestamp, ingested, message_template)
			SELECT toString(number), ?, ?, concat('action=deny srcport=', toString(number)) FROM numbers(1000)`, b.month, b.arrived); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE events FINAL"); err != nil {
		t.Fatal(err)
	}
	// The same messages in both parts: the settled part's must take fewer bytes.
	rows, err := conn.Query(ctx, `SELECT p.partition, any(p.default_compression_codec), sumIf(c.column_data_compressed_bytes, c.column = 'message_template')
		FROM system.parts AS p JOIN system.parts_columns AS c ON c.database = p.database AND c.table = p.table AND c.name = p.name
		WHERE p.database = ? AND p.table = 'events' AND p.active GROUP BY p.partition ORDER BY p.partition`, db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type part struct {
		codec   string
		message uint64
	}
	var parts []part
	for rows.Next() {
		var p part
		var partition string
		if err := rows.Scan(&partition, &p.codec, &p.message); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	if len(parts) != 2 {
		t.Fatalf("got %d partitions, want 2 (settled, new): %v", len(parts), parts)
	}
	settled, fresh := parts[0], parts[1]
	if settled.codec != "ZSTD(15)" || fresh.codec != "LZ4" {
		t.Errorf("codec of the settled part %q, of the new part %q; want ZSTD(15) and LZ4", settled.codec, fresh.codec)
	}
	// The columns queries scan keep LZ4 at any age: faster to decode than ZSTD.
	var codec string
	if err := conn.QueryRow(ctx, "SELECT compression_codec FROM system.columns WHERE database = ? AND table = 'events' AND name = 'url_domain'", db).Scan(&codec); err != nil {
		t.Fatal(err)
	}
	if codec != "CODEC(LZ4)" {
		t.Errorf("url_domain has codec %q, want CODEC(LZ4) (kept out of the recompression)", codec)
	}
	if settled.message == 0 || settled.message >= fresh.message {
		t.Errorf("message_template takes %d bytes in the settled part and %d in the new one: the settled part's should be smaller (is its codec explicit?)",
			settled.message, fresh.message)
	}
}
