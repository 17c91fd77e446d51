package parse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

func TestJSON(t *testing.T) {
	runParse(t, []parseCase{
		{name: "nested ECS and others to labels", app: "kintai", format: "json",
			body: `{"@timestamp":"2026-11-25T09:15:01+09:00","source":{"ip":"10.20.1.5","port":51234},"user":{"name":"tanaka"},"event":{"action":"file-upload","outcome":"success"},"app":"kintai","n":3,"ok":true,"tags":["a","b"],"nil":null}`,
			want: event.Event{
				Timestamp: utc("2026-11-25T00:15:01Z"),
				Meta:      event.Meta{Module: "json", Action: "file-upload", Outcome: "success"},
				Source:    event.Endpoint{IP: ip("10.20.1.5"), Port: 51234},
				User:      event.User{Name: "tanaka"},
				Labels:    map[string]string{"app": "kintai", "n": "3", "ok": "true", "tags": `["a","b"]`},
			}},
		{name: "flat short names, odd values kept as labels", format: "json",
			body: `{"ts":1764050100.5,"src":"10.30.1.9","dst":"not-an-ip","dport":"445","msg":"hello"}`,
			want: event.Event{
				Timestamp:   utc("2025-11-25T05:55:00.5Z"),
				Meta:        event.Meta{Module: "json"},
				Source:      event.Endpoint{IP: ip("10.30.1.9")},
				Destination: event.Endpoint{Port: 445},
				Message:     "hello",
				Labels:      map[string]string{"dst": "not-an-ip"},
			}},
		{name: "not JSON", body: `{not json}`, format: "syslog", errField: "-"},
		{name: "two objects", body: `{"a":1} {"b":2}`, format: "syslog", errField: "-"},
	})
}

func TestKV(t *testing.T) {
	runParse(t, []parseCase{
		{name: "generic pairs", app: "acme", format: "kv",
			body: `vendor=acme act=blocked src=10.30.1.9 dst=10.20.1.1 dpt=445 user="adm sato" note="a \"b\""`,
			want: event.Event{
				Meta:        event.Meta{Module: "kv"},
				Source:      event.Endpoint{IP: ip("10.30.1.9")},
				Destination: event.Endpoint{IP: ip("10.20.1.1"), Port: 445},
				User:        event.User{Name: "adm sato"},
				Labels:      map[string]string{"vendor": "acme", "act": "blocked", "note": `a "b"`},
			}},
		{name: "prose with one pair is not kv", body: `session opened for user root(uid=0) by (uid=1000)`, format: "syslog", errField: "-"},
		{name: "more words than pairs", body: `a b c d=1 e=2`, format: "syslog", errField: "-"},
	})
}

func TestLabelLimit(t *testing.T) {
	p, err := New(Options{MaxLabels: 4})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, "k%02d=%s ", i, strings.Repeat("v", 2000))
	}
	var e event.Event
	if _, err := p.Parse(Input{Body: b.String()}, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Labels) != 4 {
		t.Errorf("got %d labels, want 4", len(e.Labels))
	}
	for k, v := range e.Labels {
		if len(v) > maxLabelValue {
			t.Errorf("label %s has %d bytes, want at most %d", k, len(v), maxLabelValue)
		}
	}
}
