package parse

import (
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Squid's "combined" access log: Apache combined with Squid's result and hierarchy codes appended
// ("logformat combined %>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st "%{Referer}>h" "%{User-Agent}>h" %Ss:%Sh").
// Example:
//
//	10.30.1.20 - tanaka [25/Nov/2026:09:15:01 +0900] "GET http://www.example.jp/index.html HTTP/1.1" 200 5234 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" TCP_MISS:HIER_DIRECT
//
// Fields: as the native format (squid.go), plus http.user_agent; the time has its own zone. Module squid.
func parseSquidCombined(line string, loc *time.Location, e *event.Event, maxLabels int) (bool, error) {
	var fs [10]string
	n, ok := splitFields(line, fs[:], false)
	if !ok || n < 7 {
		return false, nil
	}
	t, ok := clf(fs[3], loc)
	if !ok {
		return false, nil // the bracketed time is what makes this format: without it the line is not ours
	}
	const f = FormatSquid
	e.Meta.Module = f
	e.Meta.Category = "web"
	e.Timestamp = t
	if err := setIP(&e.Source.IP, FormatSquidCombined, "client", fs[0]); err != nil {
		return true, err
	}
	if !absent(fs[2]) {
		e.User.Name = fs[2]
	} else if !absent(fs[1]) {
		e.User.Name = fs[1]
	}
	if err := setStatus(&e.HTTP.Status, FormatSquidCombined, "status", fs[5]); err != nil {
		return true, err
	}
	if err := setBytes(&e.Destination.Bytes, FormatSquidCombined, "bytes", fs[6]); err != nil {
		return true, err
	}
	if fs[4] != "-" {
		method, rest := nextWord(fs[4])
		url, _ := nextWord(rest)
		setRequest(e, method, url)
	}
	if n > 8 && !absent(fs[8]) {
		e.HTTP.UserAgent = unquote(fs[8])
	}
	code := ""
	if n > 9 {
		code, _, _ = strings.Cut(fs[9], ":")
	}
	squidAction(e, code, maxLabels)
	return true, nil
}
