package writer_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/event"
)

// The events table stores the raw line split (raw_head before the message; migration 0010) and the
// message and header with the values of typed columns cut out (migration 0013), and rebuilds both in
// ALIASes: every message and every line must come back byte for byte, whatever they hold.
func TestStoredTextComesBackWhole(t *testing.T) {
	events := simulatedEvents(t, 3000)                            // every format of the simulator, syslog and file lines
	at := time.Date(2026, 11, 5, 23, 4, 5, 678_901_234, time.UTC) // 08:04:05.678 on the 6th in Japan
	v4, v6 := netip.MustParseAddr("10.30.0.25"), netip.MustParseAddr("2001:db8::25")
	odd := []struct {
		name, raw, message string
		with               func(e *event.Event)
	}{
		{"empty message", "<13>Nov 26 04:00:00 host app: ", "", nil},
		{"message is the line", "1793577600.086 84 10.30.0.30 TCP_MISS/200 10 GET http://a.example/ - HIER_NONE/- -", "1793577600.086 84 10.30.0.30 TCP_MISS/200 10 GET http://a.example/ - HIER_NONE/- -", nil},
		{"transcoded body", "<13>Nov 26 04:00:00 host app: \x93\xfa\x96\x7b", "<13>Nov 26 04:00:00 host app: 日本", nil},
		{"message from a msg= field", `<13>1 2026-11-26T04:00:00Z host app - - - msg="login failed" user=a`, "login failed", nil},
		{"message in the middle", "<13>head body tail", "body", nil},
		{"empty line", "", "", nil},
		{"bytes that are not UTF-8", "<13>x \xff\xfe body", "body", nil},
		{"repeated suffix", "<13>abcabc", "abc", nil},
		// References: values of typed fields in the texts.
		{"every reference", "<13>Nov  6 08:04:05 fw kernel: ",
			"t=1793919845678123 s=1793919845.678 at 08:04:05 10.30.0.25:443 -> 10.30.0.25 out 443 in 99 user o'brien url http://x.example/a?b=1",
			func(e *event.Event) {
				e.Source.IP, e.Destination.IP, e.Source.Port, e.Source.Bytes, e.Destination.Bytes = v4, v4, 443, 443, 99
				e.User.Name, e.URL.Original = "o'brien", "http://x.example/a?b=1"
			}},
		{"RFC 5424 header", "<13>1 2026-11-06T08:04:05.678+09:00 fw app - - - x 10.30.0.25", "x 10.30.0.25",
			func(e *event.Event) { e.Source.IP = v4 }},
		{"a control byte of its own", "<13>Nov  6 08:04:05 fw app: \x01 10.30.0.25 \x1b[31m", "\x01 10.30.0.25 \x1b[31m",
			func(e *event.Event) { e.Source.IP = v4 }},
		{"tabs and line breaks are text", "<13>Nov  6 08:04:05 fw app: a\t10.30.0.25\r\n", "a\t10.30.0.25\r\n",
			func(e *event.Event) { e.Source.IP = v4 }},
		{"values inside longer numbers stay", "<13>x 104430 10.30.0.255 1443", "104430 10.30.0.255 1443",
			func(e *event.Event) { e.Source.IP, e.Source.Port = v4, 443 }},
		{"replacement-like text in a value", `<13>x user \1$0%s\ done`, `user \1$0%s\ done`,
			func(e *event.Event) { e.User.Name = `\1$0%s\` }},
		{"IPv6 stays text", "<13>x from 2001:db8::25", "from 2001:db8::25",
			func(e *event.Event) { e.Source.IP = v6 }},
		{"a line stored whole keeps its header", "<13>Nov  6 08:04:05 fw app: \x93\xfa 10.30.0.25", "日 10.30.0.25",
			func(e *event.Event) { e.Source.IP = v4 }},
		{"a time the table cannot render the same", "<13>Jan  1 09:00:00 fw app: 631152000000", "631152000000",
			func(e *event.Event) { e.Timestamp = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for i, o := range odd {
		e := event.Event{ID: "odd-" + string(rune('a'+i)), Timestamp: at, Message: o.message, Meta: event.Meta{Original: o.raw}}
		if o.with != nil {
			o.with(&e)
		}
		events = append(events, e)
	}
	conn, db := migrated(t)
	ctx := context.Background()
	if err := writer.InsertEvents(ctx, conn, db+".events", events); err != nil {
		t.Fatal(err)
	}
	want := map[string]*event.Event{}
	for i := range events {
		want[events[i].ID] = &events[i]
	}
	rows, err := conn.Query(ctx, "SELECT id, raw, message, verbatim FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen, verbatim := 0, 0
	for rows.Next() {
		var id, raw, message string
		var v bool
		if err := rows.Scan(&id, &raw, &message, &v); err != nil {
			t.Fatal(err)
		}
		seen++
		if v {
			verbatim++
		}
		if e := want[id]; raw != e.Meta.Original || message != e.Message {
			t.Errorf("event %s: read back raw %q, message %q; stored raw %q, message %q", id, raw, message, e.Meta.Original, e.Message)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Fatalf("read %d events back, stored %d", seen, len(want))
	}
	// The simulator's lines are the common case: nearly all of them must be stored with references.
	if verbatim > len(odd) {
		t.Errorf("%d of %d events stored verbatim, want at most the %d odd ones", verbatim, seen, len(odd))
	}
}
