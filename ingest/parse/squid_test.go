package parse

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

func squidTunnel() event.Event {
	return event.Event{
		Timestamp:   utc("2025-11-25T05:55:00.123Z"),
		Meta:        event.Meta{Module: "squid", Category: "web", Action: "allow", Outcome: "success"},
		Source:      event.Endpoint{IP: ip("10.30.1.20")},
		Destination: event.Endpoint{IP: ip("203.0.113.5"), Bytes: 5234},
		Network:     event.Network{Transport: "tcp", Protocol: "https"},
		User:        event.User{Name: "tanaka"},
		URL:         event.URL{Original: "www.example.jp:443", Domain: "www.example.jp"},
		HTTP:        event.HTTP{Method: "CONNECT", Status: 200},
		Labels:      map[string]string{"result": "TCP_TUNNEL"},
	}
}

func TestSquidNative(t *testing.T) {
	denied := event.Event{
		Timestamp:   utc("2025-11-25T05:55:01Z"),
		Meta:        event.Meta{Module: "squid", Category: "web", Action: "deny", Outcome: "failure"},
		Source:      event.Endpoint{IP: ip("10.30.1.21")},
		Destination: event.Endpoint{Bytes: 3900},
		Network:     event.Network{Transport: "tcp", Protocol: "http"},
		URL:         event.URL{Original: "http://Bad.Example/x?a=b", Domain: "bad.example"},
		HTTP:        event.HTTP{Method: "GET", Status: 403},
		Labels:      map[string]string{"result": "TCP_DENIED"},
	}
	rows := []parseCase{
		{name: "CONNECT tunnel", body: "1764050100.123    245 10.30.1.20 TCP_TUNNEL/200 5234 CONNECT www.example.jp:443 tanaka HIER_DIRECT/203.0.113.5 -", want: squidTunnel()},
		{name: "denied, no user, no peer", body: "1764050101.000      0 10.30.1.21 TCP_DENIED/403 3900 GET http://Bad.Example/x?a=b - HIER_NONE/- text/html", want: denied},
		{name: "bad client", body: "1764050100.123 245 10.30.1.x TCP_MISS/200 5234 GET http://a/ - HIER_NONE/- -", errField: "client"},
		{name: "bad status", body: "1764050100.123 245 10.30.1.20 TCP_MISS/2000 5234 GET http://a/ - HIER_NONE/- -", errField: "status"},
		{name: "bad bytes", body: "1764050100.123 245 10.30.1.20 TCP_MISS/200 52x4 GET http://a/ - HIER_NONE/- -", errField: "bytes"},
		{name: "too few fields", body: "1764050100.123 245 10.30.1.20 TCP_MISS/200", errField: "-"},
	}
	runFile(t, "squid", rows)
	// Over syslog: by app name, and by content (10 fields, epoch first) without one.
	for i := range rows {
		rows[i].app = "squid"
		rows[i].format = "squid"
	}
	rows[len(rows)-1].format = "syslog"
	runParse(t, rows)
	runParse(t, []parseCase{{name: "by content", body: rows[0].body, format: "squid", want: squidTunnel()}})
}

func TestSquidCombined(t *testing.T) {
	miss := event.Event{
		Timestamp:   utc("2026-11-25T00:15:01Z"),
		Meta:        event.Meta{Module: "squid", Category: "web", Action: "allow", Outcome: "success"},
		Source:      event.Endpoint{IP: ip("10.30.1.20")},
		Destination: event.Endpoint{Bytes: 5234},
		Network:     event.Network{Transport: "tcp", Protocol: "http"},
		User:        event.User{Name: "tanaka"},
		URL:         event.URL{Original: "http://www.example.jp/index.html", Domain: "www.example.jp"},
		HTTP:        event.HTTP{Method: "GET", Status: 200, UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
		Labels:      map[string]string{"result": "TCP_MISS"},
	}
	line := `10.30.1.20 - tanaka [25/Nov/2026:09:15:01 +0900] "GET http://www.example.jp/index.html HTTP/1.1" 200 5234 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" TCP_MISS:HIER_DIRECT`
	denied := event.Event{
		Timestamp:   utc("2026-11-25T00:15:02Z"),
		Meta:        event.Meta{Module: "squid", Category: "web", Action: "deny", Outcome: "failure"},
		Source:      event.Endpoint{IP: ip("10.30.1.21")},
		Destination: event.Endpoint{Bytes: 3900},
		Network:     event.Network{Transport: "tcp", Protocol: "https"},
		URL:         event.URL{Original: "bad.example:443", Domain: "bad.example"},
		HTTP:        event.HTTP{Method: "CONNECT", Status: 403, UserAgent: `curl/8.0 "quoted"`},
		Labels:      map[string]string{"result": "TCP_DENIED"},
	}
	rows := []parseCase{
		{name: "miss", body: line, want: miss},
		{name: "denied CONNECT, escaped quote in agent", body: `10.30.1.21 - - [25/Nov/2026:09:15:02 +0900] "CONNECT bad.example:443 HTTP/1.1" 403 3900 "-" "curl/8.0 \"quoted\"" TCP_DENIED:HIER_NONE`, want: denied},
		{name: "bad client", body: `10.30.1 - - [25/Nov/2026:09:15:02 +0900] "GET http://a/ HTTP/1.1" 200 1 "-" "-" TCP_MISS:HIER_DIRECT`, errField: "client"},
		{name: "bad status", body: `10.30.1.1 - - [25/Nov/2026:09:15:02 +0900] "GET http://a/ HTTP/1.1" OK 1 "-" "-" TCP_MISS:HIER_DIRECT`, errField: "status"},
		{name: "bad time", body: `10.30.1.1 - - [25/Nov/2026:25:15:02 +0900] "GET http://a/ HTTP/1.1" 200 1 "-" "-" TCP_MISS:HIER_DIRECT`, errField: "-"},
	}
	runFile(t, "squid-combined", rows)
	for i := range rows {
		rows[i].app, rows[i].format = "squid", "squid"
	}
	rows[len(rows)-1].format = "syslog"
	runParse(t, rows)
}

func TestSquidIPv6(t *testing.T) {
	runFile(t, "squid", []parseCase{{
		name: "CONNECT to an IPv6 literal, IPv6 client and peer",
		body: "1764050100.123 245 2001:db8::20 TCP_TUNNEL/200 5234 CONNECT [2001:db8:1::5]:443 - HIER_DIRECT/2001:db8:1::5 -",
		want: event.Event{
			Timestamp:   utc("2025-11-25T05:55:00.123Z"),
			Meta:        event.Meta{Module: "squid", Category: "web", Action: "allow", Outcome: "success"},
			Source:      event.Endpoint{IP: ip("2001:db8::20")},
			Destination: event.Endpoint{IP: ip("2001:db8:1::5"), Bytes: 5234},
			Network:     event.Network{Transport: "tcp", Protocol: "https"},
			URL:         event.URL{Original: "[2001:db8:1::5]:443", Domain: "2001:db8:1::5"},
			HTTP:        event.HTTP{Method: "CONNECT", Status: 200},
			Labels:      map[string]string{"result": "TCP_TUNNEL"},
		},
	}})
}
