package parse

import (
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

const ifilterLine = `Nov 25 09:15:01 4872 1000/01/ - 203.0.113.9:443 10.30.1.20 10.30.1.20 - tanaka [25/Nov/2026:09:15:01 +0900] 403 0 1207 block 63 87 87/127/151 -1 0 1518 0 soumu - 0 - "GET https://Bad.Example/sw.js HTTP/1.1" - "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" text%2Fhtml A667FEFF`

const ifilterCompactLine = `[25/Nov/2026:09:15:01 +0900] 245 10.30.0.30 sato.k 200 5234 812 pass 0101 "GET http://news.example.jp/ HTTP/1.1" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ..."`

func TestIFilter(t *testing.T) {
	block := event.Event{
		Timestamp:   utc("2026-11-25T00:15:01Z"),
		Meta:        event.Meta{Module: "ifilter", Category: "web", Action: "deny", Outcome: "failure"},
		Source:      event.Endpoint{IP: ip("10.30.1.20")},
		Destination: event.Endpoint{IP: ip("203.0.113.9"), Port: 443, Bytes: 1207},
		Network:     event.Network{Transport: "tcp", Protocol: "https"},
		User:        event.User{Name: "tanaka"},
		URL:         event.URL{Original: "https://Bad.Example/sw.js", Domain: "bad.example", Category: "87"},
		HTTP:        event.HTTP{Method: "GET", Status: 403, UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
		Labels:      map[string]string{"group": "soumu", "result": "block", "reason": "63", "categories": "87/127/151"},
	}
	pass := event.Event{
		Timestamp:   utc("2026-11-25T00:15:01Z"),
		Meta:        event.Meta{Module: "ifilter", Category: "web", Action: "allow", Outcome: "success"},
		Source:      event.Endpoint{IP: ip("10.30.0.30"), Bytes: 812},
		Destination: event.Endpoint{Bytes: 5234},
		Network:     event.Network{Transport: "tcp", Protocol: "http"},
		User:        event.User{Name: "sato.k"},
		URL:         event.URL{Original: "http://news.example.jp/", Domain: "news.example.jp", Category: "0101"},
		HTTP:        event.HTTP{Method: "GET", Status: 200, UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ..."},
		Labels:      map[string]string{"result": "pass"},
	}
	rows := []parseCase{
		{name: "vendor default layout, block", body: ifilterLine, want: block},
		{name: "compact layout, pass", body: ifilterCompactLine, want: pass},
		{name: "default layout without the leading time, as over syslog", body: strings.TrimPrefix(ifilterLine, "Nov 25 09:15:01 "), want: block},
		{name: "unterminated quote in the last column: kept as logged", body: strings.TrimSuffix(ifilterCompactLine, `"`), want: func() event.Event {
			e := pass
			e.HTTP.UserAgent = `"Mozilla/5.0 (Windows NT 10.0; Win64; x64) ...`
			e.Labels = map[string]string{"result": "pass"}
			return e
		}()},
		{name: "bad client", body: strings.Replace(ifilterLine, "10.30.1.20 10.30.1.20", "10.30.1.20 10.30.1.x", 1), errField: "client_ip"},
		{name: "bad status", body: strings.Replace(ifilterCompactLine, " 200 ", " 2000 ", 1), errField: "status"},
		{name: "bad bytes", body: strings.Replace(ifilterCompactLine, " 5234 ", " 5k ", 1), errField: "bytes"},
		{name: "bad destination", body: strings.Replace(ifilterLine, "203.0.113.9:443", "203.0.113.9:http", 1), errField: "destination"},
		{name: "column count of no layout", body: `[25/Nov/2026:09:15:01 +0900] 245 10.30.0.30`, errField: "-"},
		{name: "unbalanced quote shifts the columns", body: strings.Replace(ifilterCompactLine, `HTTP/1.1"`, `HTTP/1.1`, 1), errField: "-"},
	}
	runFile(t, "ifilter", rows)
	for i := range rows {
		rows[i].app, rows[i].format = "i-FILTER", "ifilter"
	}
	rows[len(rows)-1].format, rows[len(rows)-2].format = "syslog", "syslog"
	runParse(t, rows)
}

func TestIFilterOptions(t *testing.T) {
	p, err := New(Options{
		IFilterLayout:     []string{"time", "client_ip", "action", "category", "url"},
		IFilterCategories: map[string]string{"9001": "malware"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var e event.Event
	if err := p.ParseFile("ifilter", `[25/Nov/2026:09:15:01 +0900] 10.30.1.20 block 9001 http://c2.example/beacon`, nil, &e); err != nil {
		t.Fatal(err)
	}
	if e.URL.Category != "malware" || e.Labels["category_code"] != "9001" || e.URL.Domain != "c2.example" || e.Meta.Action != "deny" {
		t.Errorf("custom layout: got %+v", e)
	}
	// The configured layout replaces both defaults.
	if err := p.ParseFile("ifilter", ifilterCompactLine, nil, &event.Event{}); err == nil {
		t.Error("compact line parsed with a custom layout of another width")
	}
}

func TestLayoutValidation(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"no address", Options{IFilterLayout: []string{"time", "user"}}, "neither client_ip nor source_ip"},
		{"no time", Options{InterSafeLayout: []string{"date", "client_ip"}}, "neither time nor date and clock"},
		{"twice", Options{IFilterLayout: []string{"time", "client_ip", "client_ip"}}, `names column "client_ip" twice`},
		{"too wide", Options{IFilterLayout: make([]string, 65)}, "65 columns"},
		{"bad app format", Options{AppNames: map[string]string{"x": "nope"}}, `unknown format "nope"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: err = %v, want one saying %q", err, c.want)
			}
		})
	}
	// An empty layout, as a configuration file's "ifilter_layout: []", means the built-in ones.
	if _, err := New(Options{IFilterLayout: []string{}, InterSafeLayout: []string{}}); err != nil {
		t.Errorf("empty layouts: %v, want the defaults", err)
	}
}
