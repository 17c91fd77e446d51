package writer_test

import (
	"context"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/event"
)

// The events table stores the raw line split (raw_head before the message; migration 0010) and
// rebuilds it in an ALIAS: every line must come back byte for byte, whatever its message is.
func TestRawLineComesBackWhole(t *testing.T) {
	events := simulatedEvents(t, 3000) // every format of the simulator, syslog and file lines
	odd := []struct{ name, raw, message string }{
		{"empty message", "<13>Nov 26 04:00:00 host app: ", ""},
		{"message is the line", "1793577600.086 84 10.30.0.30 TCP_MISS/200 10 GET http://a.example/ - HIER_NONE/- -", "1793577600.086 84 10.30.0.30 TCP_MISS/200 10 GET http://a.example/ - HIER_NONE/- -"},
		{"transcoded body", "<13>Nov 26 04:00:00 host app: \x93\xfa\x96\x7b", "<13>Nov 26 04:00:00 host app: 日本"},
		{"message from a msg= field", `<13>1 2026-11-26T04:00:00Z host app - - - msg="login failed" user=a`, "login failed"},
		{"message in the middle", "<13>head body tail", "body"},
		{"empty line", "", ""},
		{"bytes that are not UTF-8", "<13>x \xff\xfe body", "body"},
		{"repeated suffix", "<13>abcabc", "abc"},
	}
	for i, o := range odd {
		events = append(events, event.Event{ID: "odd-" + string(rune('a'+i)), Timestamp: time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC),
			Message: o.message, Meta: event.Meta{Original: o.raw}})
	}
	conn, db := migrated(t)
	ctx := context.Background()
	if err := writer.InsertEvents(ctx, conn, db+".events", events); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, e := range events {
		want[e.ID] = e.Meta.Original
	}
	rows, err := conn.Query(ctx, "SELECT id, raw, message FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var id, raw, message string
		if err := rows.Scan(&id, &raw, &message); err != nil {
			t.Fatal(err)
		}
		seen++
		if raw != want[id] {
			t.Errorf("event %s: raw read back as %q, stored %q (message %q)", id, raw, want[id], message)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Fatalf("read %d events back, stored %d", seen, len(want))
	}
}
