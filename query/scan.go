package query

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/event"
)

// eventColumns is the column list Search reads, in the order scanEvent scans. The message and the raw
// line are read as the events table stores them (message_template, raw_head, raw_whole, verbatim;
// migrations 0010 and 0013) and rebuilt here: selecting the table's ALIASes instead keeps ClickHouse
// from its top-K pre-filter on timestamp, which made the 30-day searches of BenchmarkDashboardQueries
// about 2.8x slower at 10 M events.
const eventColumns = `id, timestamp, ingested, observer_host, observer_ip, observer_zone, listener, source_type, parse_status, parse_error,
category, action, outcome, severity, facility,
source_ip, source_port, source_zone, source_host, destination_ip, destination_port, destination_zone, destination_host,
cross_zone, transport, app_protocol, user_name, url_domain, url_original, http_method, http_status, url_category, user_agent,
bytes_out, bytes_in, process_name, message_template, raw_head, raw_whole, verbatim, labels`

// scanEvent reads one row of eventColumns into an event.
func scanEvent(rows driver.Rows) (*event.Event, error) {
	var (
		e                   event.Event
		obsIP, srcIP, dstIP net.IP
		labels              map[string]string
		text                event.StoredText
	)
	err := rows.Scan(&e.ID, &e.Timestamp, &e.Meta.Ingested, &e.Observer.Hostname, &obsIP, &e.Observer.Zone, &e.Log.Listener,
		&e.Meta.Module, &e.Log.ParseStatus, &e.Log.ParseError,
		&e.Meta.Category, &e.Meta.Action, &e.Meta.Outcome, &e.Meta.Severity, &e.Log.Facility,
		&srcIP, &e.Source.Port, &e.Source.Zone, &e.Source.Host,
		&dstIP, &e.Destination.Port, &e.Destination.Zone, &e.Destination.Host,
		&e.Meta.CrossZone, &e.Network.Transport, &e.Network.Protocol, &e.User.Name, &e.URL.Domain, &e.URL.Original,
		&e.HTTP.Method, &e.HTTP.Status, &e.URL.Category, &e.HTTP.UserAgent,
		&e.Source.Bytes, &e.Destination.Bytes, &e.Process.Name, &text.MessageTemplate, &text.RawHead, &text.RawWhole, &text.Verbatim, &labels)
	if err != nil {
		return nil, err
	}
	e.Observer.IP, e.Source.IP, e.Destination.IP = addr(obsIP), addr(srcIP), addr(dstIP)
	e.Timestamp, e.Meta.Ingested = e.Timestamp.UTC(), e.Meta.Ingested.UTC()
	text.Load(&e) // after the typed fields, which it refers to
	if len(labels) > 0 {
		e.Labels = labels
	}
	return &e, nil
}

// addr reverses the writer's storage of addresses: IPv4-mapped back to IPv4, :: to absent.
func addr(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || a == netip.IPv6Unspecified() {
		return netip.Addr{}
	}
	return a.Unmap()
}

// scanRow reads a row of any columns into JSON-friendly values.
func scanRow(rows driver.Rows) ([]any, error) {
	cts := rows.ColumnTypes()
	ptrs := make([]any, len(cts))
	for i, ct := range cts {
		ptrs[i] = reflect.New(ct.ScanType()).Interface()
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := make([]any, len(ptrs))
	for i, p := range ptrs {
		out[i] = plain(reflect.ValueOf(p).Elem().Interface())
	}
	return out, nil
}

func plain(v any) any {
	switch x := v.(type) {
	case net.IP:
		return addrString(addr(x))
	case *net.IP:
		if x == nil {
			return nil
		}
		return addrString(addr(*x))
	case time.Time:
		return x.UTC()
	case []net.IP:
		out := make([]string, len(x))
		for i, ip := range x {
			out[i] = addrString(addr(ip))
		}
		return out
	case fmt.Stringer:
		return x.String()
	}
	return v
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
