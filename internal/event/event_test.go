package event

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestJSONUsesECSNames(t *testing.T) {
	e := Event{
		ID:          "x",
		Timestamp:   time.Date(2026, 11, 2, 0, 15, 1, 0, time.UTC),
		Meta:        Meta{Module: "fortigate", Action: "deny", Outcome: OutcomeFailure, Original: "raw"},
		Source:      Endpoint{IP: netip.MustParseAddr("10.10.1.5"), Port: 50000, Zone: "mynumber"},
		Destination: Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 443, Zone: "internet"},
		User:        User{Name: "tanaka"},
		URL:         URL{Domain: "example.jp"},
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"source":{"ip":"10.10.1.5","port":50000,"zone":"mynumber"}`, `"user":{"name":"tanaka"}`,
		`"url":{"domain":"example.jp"}`, `"action":"deny"`, `"outcome":"failure"`, `"@timestamp":"2026-11-02T00:15:01Z"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Destination.IP != e.Destination.IP || back.Source.Zone != "mynumber" || !back.Timestamp.Equal(e.Timestamp) {
		t.Errorf("round trip changed the event: %+v", back)
	}
}

func TestNewIDSortsByTimeAndIsUnique(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := NewID(t0), NewID(t0.Add(time.Millisecond))
	if len(a) != 32 || a >= b {
		t.Fatalf("ids %q, %q: want 32 hex chars, later id sorting after", a, b)
	}
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := NewID(t0)
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

// TestIDsLikeNewID: ids from an IDs are NewID's form (32 hex characters, the time first, so they sort by
// it) and unique; two generators made at the same time share no id.
func TestIDsLikeNewID(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var g IDs
	want := NewID(t0)[:12]
	seen := map[string]bool{}
	prev := ""
	var other IDs
	for i := range 1000 {
		now := t0.Add(time.Duration(i/100) * time.Millisecond)
		id := g.New(now)
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("id %q: want 32 lower-case hex characters", id)
		}
		if i < 100 && id[:12] != want {
			t.Fatalf("id %q starts %q, NewID's at the same time %q", id, id[:12], want)
		}
		if id[:12] < prev {
			t.Fatalf("id %q sorts before an earlier one %q", id, prev)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s after %d ids", id, i)
		}
		seen[id], prev = true, id[:12]
		if o := other.New(now); seen[o] || o[12:20] == id[12:20] {
			t.Fatalf("a second generator made %s beside %s: want its own random bytes", o, id)
		}
	}
	// One generator's ids differ from the one before by one in the counter (the last 12 characters):
	// that is what lets the events table compress them.
	a, b := g.New(t0), g.New(t0)
	if a[:20] != b[:20] || a[20:] >= b[20:] {
		t.Fatalf("consecutive ids %s and %s: want the same first 20 characters and a larger counter", a, b)
	}
}
