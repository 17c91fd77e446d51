package event_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

func TestSplitBatch(t *testing.T) {
	enc := func(id, msg string) string {
		b, err := json.Marshal(event.Event{ID: id, Timestamp: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b, c := enc("a", "one"), enc("b", "two\nlines"), enc("c", "")
	tests := []struct {
		name    string
		data    string
		wantIDs []string // decoded events, in order
		wantBad int      // lines that are not events
		wantLen int      // BatchLen
	}{
		{"one event, as published one per message", a, []string{"a"}, 0, 1},
		{"one event with its newline", a + "\n", []string{"a"}, 0, 1},
		{"several", a + "\n" + b + "\n" + c + "\n", []string{"a", "b", "c"}, 0, 3},
		{"several, no last newline", a + "\n" + b + "\n" + c, []string{"a", "b", "c"}, 0, 3},
		{"an undecodable line among good ones", a + "\n{\"id\":\n" + c + "\n", []string{"a", "c"}, 1, 3},
		{"a line without an id", a + "\n{}\n", []string{"a"}, 1, 2},
		{"empty lines are skipped", "\n" + a + "\n\n  \n" + b, []string{"a", "b"}, 0, 5},
		{"empty data", "", nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			bad := 0
			event.SplitBatch([]byte(tt.data), func(line []byte) {
				var e event.Event
				if err := event.Decode(line, &e); err != nil {
					bad++
					return
				}
				ids = append(ids, e.ID)
			})
			if !slices.Equal(ids, tt.wantIDs) || bad != tt.wantBad {
				t.Errorf("decoded %q with %d bad lines, want %q with %d", ids, bad, tt.wantIDs, tt.wantBad)
			}
			if got := event.BatchLen([]byte(tt.data)); got != tt.wantLen {
				t.Errorf("BatchLen = %d, want %d", got, tt.wantLen)
			}
			if n := len(tt.wantIDs) + tt.wantBad; event.BatchLen([]byte(tt.data)) < n {
				t.Errorf("BatchLen is below the %d lines SplitBatch gives", n)
			}
		})
	}
}

func TestDecodeKeepsNewlinesInsideStrings(t *testing.T) {
	b, err := json.Marshal(event.Event{ID: "x", Message: "line1\nline2\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "\n") {
		t.Fatalf("encoded event holds a raw newline: %s", b)
	}
	var e event.Event
	if err := event.Decode(b, &e); err != nil || e.Message != "line1\nline2\r\n" {
		t.Errorf("Decode = %q, %v", e.Message, err)
	}
}
