package parse

import (
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

const intersafeLine = `2026/11/25 09:15:01 HTTP 10.30.1.20 総務課 tanaka Blocked 403 www.bad.example 0 512 text/html カテゴリ規制 不正サイト\マルウェア`

func TestInterSafe(t *testing.T) {
	blocked := event.Event{
		Timestamp:   utc("2026-11-25T00:15:01Z"),
		Meta:        event.Meta{Module: "intersafe", Category: "web", Action: "deny", Outcome: "failure"},
		Source:      event.Endpoint{IP: ip("10.30.1.20")},
		Destination: event.Endpoint{Bytes: 512},
		Network:     event.Network{Protocol: "http"},
		User:        event.User{Name: "tanaka"},
		URL:         event.URL{Domain: "www.bad.example", Category: `不正サイト\マルウェア`},
		HTTP:        event.HTTP{Status: 403},
		Labels:      map[string]string{"group": "総務課", "result": "Blocked", "reason": "カテゴリ規制"},
	}
	proxied := event.Event{
		Timestamp:   utc("2026-11-24T15:00:00Z"),
		Meta:        event.Meta{Module: "intersafe", Category: "web", Action: "allow", Outcome: "success"},
		Source:      event.Endpoint{IP: ip("10.30.1.21"), Bytes: 120},
		Destination: event.Endpoint{Bytes: 40960},
		Network:     event.Network{Protocol: "https"},
		User:        event.User{Name: "sato"},
		URL:         event.URL{Domain: "www.example.jp", Category: `ニュース\一般, ブログ\個人`},
		HTTP:        event.HTTP{Status: 200},
		Labels:      map[string]string{"group": `消防本部\警防課`, "result": "Proxied", "reason": "許可"},
	}
	rows := []parseCase{
		{name: "blocked, Japanese group, reason and category", body: intersafeLine, want: blocked},
		{name: "vendor 18-column layout; last column keeps its spaces", body: `2026/11/25 00:00:00 HTTPS 10.30.1.21 消防本部\警防課 sato - Proxied - 200 www.example.jp 0 120 40960 text/html - 許可 ニュース\一般, ブログ\個人`, want: proxied},
		{name: "stray quote inside the last column", body: strings.Replace(intersafeLine, `不正サイト\マルウェア`, `"不正 サイト`, 1), want: func() event.Event {
			e := blocked
			e.URL.Category = `"不正 サイト`
			e.Labels = map[string]string{"group": "総務課", "result": "Blocked", "reason": "カテゴリ規制"}
			return e
		}()},
		{name: "bad client", body: strings.Replace(intersafeLine, "10.30.1.20", "10.30.1.256", 1), errField: "client_ip"},
		{name: "bad status", body: strings.Replace(intersafeLine, " 403 ", " 4O3 ", 1), errField: "status"},
		{name: "bad size", body: strings.Replace(intersafeLine, " 0 512 ", " 0 5l2 ", 1), errField: "bytes"},
		{name: "impossible date", body: strings.Replace(intersafeLine, "2026/11/25", "2026/11/31", 1), errField: "-"},
	}
	runFile(t, "intersafe", rows)
	for i := range rows {
		rows[i].app, rows[i].format = "InterSafe", "intersafe"
	}
	rows[len(rows)-1].format = "syslog"
	runParse(t, rows)
}
