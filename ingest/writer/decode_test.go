package writer

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// TestDecodeEventMatchesEncodingJSON holds the writer's fast decoder to encoding/json, which ingest
// encodes with, over events that use every field, escapes, Japanese text and both address families.
func TestDecodeEventMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 11, 2, 0, 15, 1, 123_456_789, time.UTC)
	full := event.Event{ID: "0190a1b2c3d4e5f60718293a4b5c6d7e", Timestamp: ts, Message: "ログイン失敗 \"quoted\" \\ \t tab \u2028",
		Labels: map[string]string{"policyid": "7", "日本": "語"}}
	full.Meta = event.Meta{Ingested: ts.Add(time.Second), Module: "fortigate", Category: "network", Action: "deny", Outcome: "failure",
		Severity: 4, CrossZone: true, Original: "<189>date=2026-11-02 \x01 control"}
	full.Observer = event.Observer{Hostname: "fw-core", IP: netip.MustParseAddr("10.0.0.1"), Zone: "mgmt"}
	full.Source = event.Endpoint{IP: netip.MustParseAddr("10.10.1.5"), Port: 65535, Zone: "mynumber", Host: "pc-1", Bytes: 1<<64 - 1}
	full.Destination = event.Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 445, Zone: "lgwan"}
	full.URL = event.URL{Original: "https://例え.jp/a?b=c&d=<e>", Domain: "例え.jp", Category: "business"}
	full.HTTP = event.HTTP{Method: "GET", Status: 200, UserAgent: "curl/8"}
	full.Log = event.Log{Listener: "syslog-tcp", Facility: 23, ParseStatus: "ok"}
	empty := event.Event{ID: "x"}

	tests := []struct {
		name string
		data []byte
	}{
		{"full", must(json.Marshal(full))},
		{"empty", must(json.Marshal(empty))},
		{"fields in another order", []byte(`{"source":{"port":22,"ip":"10.1.1.1"},"id":"y","@timestamp":"2026-11-02T09:00:00+09:00"}`)},
		{"unknown fields", []byte(`{"id":"z","extra":{"a":[1,2,{"b":null}]},"event":{"module":"sshd","new":true}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want, got event.Event
			if err := json.Unmarshal(tt.data, &want); err != nil {
				t.Fatal(err)
			}
			if err := decodeEvent(tt.data, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decodeEvent:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	for _, bad := range []string{"", "not json", `{"id":`, `{"source":{"ip":"not an address"}}`, `{"@timestamp":"yesterday"}`} {
		var e event.Event
		if err := decodeEvent([]byte(bad), &e); err == nil {
			t.Errorf("decodeEvent(%q) accepted it", bad)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
