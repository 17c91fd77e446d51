package parse

import (
	"fmt"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Column-layout access logs (i-FILTER, InterSafe): a layout names each column of a space-delimited line,
// in order. A "column" is one token of splitFields: a "quoted string" or a [bracketed time] is one column
// even when it holds spaces. The last column takes the rest of the line.
//
// Column names understood (any other name, e.g. "pid" or "-", documents a column and ignores it):
//
//	time            [25/Nov/2026:09:15:01 +0900]: @timestamp (zone from the value, else the input's zone)
//	date, clock     2026/11/25 and 09:15:01 in the input's zone: @timestamp
//	client_ip       the requesting client: source.ip (wins over source_ip)
//	source_ip       the device directly talking to the proxy: source.ip when there is no client_ip
//	destination     the server, "ip" or "ip:port": destination.ip and .port
//	user            user.name
//	group           labels.group
//	status          http.status
//	bytes           bytes sent back to the client: destination.bytes
//	request_bytes   bytes the client sent: source.bytes
//	action          what the filter did (pass, block, Proxied, Blocked, BlkPost …): event.action allow/deny,
//	                outcome, and labels.result with the word as logged
//	category        url.category
//	categories      labels.categories (all category codes)
//	reason          labels.reason (why the filter decided)
//	request         "GET http://host/path HTTP/1.1": http.method, url.original, url.domain, network.protocol
//	method, url     http.method; url.original and url.domain
//	host            url.domain
//	protocol        HTTP / HTTPS: network.protocol
//	user_agent      http.user_agent (URL-encoded by i-FILTER: left as logged)
const (
	colIgnore = iota
	colTime
	colDate
	colClock
	colClientIP
	colSourceIP
	colDestination
	colUser
	colGroup
	colStatus
	colBytes
	colRequestBytes
	colAction
	colCategory
	colCategories
	colReason
	colRequest
	colMethod
	colURL
	colHost
	colProtocol
	colUserAgent
	numCols
)

// maxColumns bounds a layout; lines are split into a fixed array of this size.
const maxColumns = 64

// layout is a compiled column layout: the position of each understood column, or -1.
type layout struct {
	format string
	n      int           // number of columns
	at     [numCols]int8 // column kind → position, -1 when absent
	// categories names category codes (i-FILTER); nil when the log has names already.
	categories map[string]string
}

// parseLayouts tries each layout in turn, widest first. A layout takes a line when the column count
// matches, the time column reads as a time, and every typed column (addresses, status, sizes) reads as its
// type. When a line fits some layout's shape but a typed column is broken and no layout takes it, the
// first such error is returned and e is left alone but for its module.
func parseLayouts(ls []*layout, line string, loc *time.Location, e *event.Event, maxLabels int) (bool, error) {
	var arr [maxColumns]string
	n, ok := splitFields(line, arr[:], false) // once: most lines have exactly some layout's count
	if !ok {
		n = maxColumns + 1 // a stray quote may still sit inside a last column that takes the rest
	}
	var first error
	for _, l := range ls {
		fs := arr[:l.n]
		switch {
		case n < l.n:
			continue
		case n > l.n: // more fields than columns: the last column takes the rest of the line
			if m, ok := splitFields(line, fs, true); !ok || m != l.n {
				continue
			}
		}
		r, ok, err := l.read(fs, loc)
		if !ok {
			continue
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		l.fill(fs, &r, e, maxLabels)
		return true, nil
	}
	if first != nil {
		e.Meta.Module = ls[0].format
		return true, first
	}
	return false, nil
}

func newLayout(format string, names []string) (*layout, error) {
	if len(names) == 0 || len(names) > maxColumns {
		return nil, fmt.Errorf("parse: %s layout has %d columns, want 1 to %d", format, len(names), maxColumns)
	}
	l := &layout{format: format, n: len(names)}
	for i := range l.at {
		l.at[i] = -1
	}
	colNames := [numCols]string{"", "time", "date", "clock", "client_ip", "source_ip", "destination", "user", "group",
		"status", "bytes", "request_bytes", "action", "category", "categories", "reason", "request", "method", "url",
		"host", "protocol", "user_agent"}
	for i, name := range names {
		for k := 1; k < numCols; k++ {
			if name != colNames[k] {
				continue
			}
			if l.at[k] >= 0 {
				return nil, fmt.Errorf("parse: %s layout names column %q twice (positions %d and %d)", format, name, l.at[k]+1, i+1)
			}
			l.at[k] = int8(i)
		}
	}
	if l.at[colClientIP] < 0 && l.at[colSourceIP] < 0 {
		return nil, fmt.Errorf("parse: %s layout %q has neither client_ip nor source_ip", format, strings.Join(names, " "))
	}
	if l.at[colTime] < 0 && (l.at[colDate] < 0 || l.at[colClock] < 0) {
		return nil, fmt.Errorf("parse: %s layout %q has neither time nor date and clock", format, strings.Join(names, " "))
	}
	return l, nil
}

// col returns the value of a column kind, "" when the layout lacks it.
func (l *layout) col(fs []string, k int) string {
	i := l.at[k]
	if i < 0 || int(i) >= len(fs) {
		return ""
	}
	return fs[i]
}

// record holds the typed columns of a line, read before anything is written to the event.
type record struct {
	time                time.Time
	src, dst            event.Endpoint
	status              uint16
	bytes, requestBytes uint64
}

// read checks and converts the typed columns. ok is false when the time column is not a time (the line is
// not of this layout); err names a broken typed column.
func (l *layout) read(fs []string, loc *time.Location) (r record, ok bool, err error) {
	f := l.format
	if l.at[colTime] >= 0 {
		r.time, ok = clf(l.col(fs, colTime), loc)
	} else {
		r.time, ok = dateClock(l.col(fs, colDate), l.col(fs, colClock), loc)
	}
	if !ok {
		return r, false, nil
	}
	if v := l.col(fs, colClientIP); !absent(v) {
		err = setIP(&r.src.IP, f, "client_ip", v)
	} else if v := l.col(fs, colSourceIP); !absent(v) {
		err = setIP(&r.src.IP, f, "source_ip", v)
	}
	if v := l.col(fs, colDestination); err == nil && !absent(v) {
		err = setAddrPort(&r.dst, f, "destination", v)
	}
	if err == nil {
		err = setStatus(&r.status, f, "status", l.col(fs, colStatus))
	}
	if err == nil {
		err = setBytes(&r.bytes, f, "bytes", l.col(fs, colBytes))
	}
	if err == nil {
		err = setBytes(&r.requestBytes, f, "request_bytes", l.col(fs, colRequestBytes))
	}
	return r, true, err
}

// fill writes a checked line into the event.
func (l *layout) fill(fs []string, r *record, e *event.Event, maxLabels int) {
	e.Timestamp = r.time
	e.Meta.Module = l.format
	e.Meta.Category = "web"
	if r.src.IP.IsValid() {
		e.Source.IP = r.src.IP
	}
	if r.dst.IP.IsValid() {
		e.Destination.IP, e.Destination.Port = r.dst.IP, r.dst.Port
	}
	if l.at[colStatus] >= 0 {
		e.HTTP.Status = r.status
	}
	if l.at[colBytes] >= 0 {
		e.Destination.Bytes = r.bytes
	}
	if l.at[colRequestBytes] >= 0 {
		e.Source.Bytes = r.requestBytes
	}
	if v := l.col(fs, colUser); !absent(v) {
		e.User.Name = v
	}
	if v := l.col(fs, colGroup); !absent(v) {
		setLabel(e, maxLabels, "group", v)
	}
	if v := l.col(fs, colAction); !absent(v) {
		setLabel(e, maxLabels, "result", v)
		e.Meta.Action, e.Meta.Outcome = filterAction(v)
	}
	if v := l.col(fs, colCategory); !absent(v) {
		e.URL.Category = v
		if name, ok := l.categories[v]; ok {
			e.URL.Category = name
			setLabel(e, maxLabels, "category_code", v)
		}
	}
	if v := l.col(fs, colCategories); !absent(v) {
		setLabel(e, maxLabels, "categories", v)
	}
	if v := l.col(fs, colReason); !absent(v) {
		setLabel(e, maxLabels, "reason", v)
	}
	if v := l.col(fs, colRequest); !absent(v) {
		method, rest := nextWord(v)
		url, _ := nextWord(rest)
		setRequest(e, method, url)
	}
	if v := l.col(fs, colMethod); !absent(v) {
		e.HTTP.Method = v
	}
	if v := l.col(fs, colURL); !absent(v) {
		setRequest(e, e.HTTP.Method, v)
	}
	if v := l.col(fs, colHost); !absent(v) {
		e.URL.Domain = urlHost(v)
	}
	if v := l.col(fs, colProtocol); !absent(v) {
		e.Network.Protocol = appProto(v)
	}
	if v := l.col(fs, colUserAgent); !absent(v) {
		e.HTTP.UserAgent = unquote(v)
	}
}

// filterAction maps a web filter's verdict (i-FILTER, InterSafe) to action and outcome.
func filterAction(v string) (action, outcome string) {
	switch v {
	case "block", "Block", "BLOCK", "Blocked", "blocked", "BlkPost", "blkpost", "deny", "denied", "reject":
		return "deny", event.OutcomeFailure
	case "pass", "Pass", "PASS", "Proxied", "proxied", "Allowed", "allowed", "allow", "Release", "release", "permit", "warn":
		return "allow", event.OutcomeSuccess
	}
	return lower(v), event.OutcomeUnknown
}
