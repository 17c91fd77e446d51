package writer

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/event"
)

// eventColumns is the column list of the events table, in the order eventRows.columns returns them.
const eventColumns = `id, timestamp, ingested, observer_host, observer_ip, observer_zone, listener, source_type, parse_status, parse_error,
category, action, outcome, severity, facility,
source_ip, source_port, source_zone, source_host, destination_ip, destination_port, destination_zone, destination_host,
cross_zone, transport, app_protocol, user_name, url_domain, url_original, http_method, http_status, url_category, user_agent,
bytes_out, bytes_in, process_name, message_template, raw_head, raw_whole, verbatim, labels`

// eventRows holds a batch of events column by column: one typed slice per column, appended to the
// INSERT with one call per column instead of one reflective call per value.
type eventRows struct {
	id, observerHost, observerZone, listener, sourceType, parseStatus, parseError []string
	category, action, outcome                                                     []string
	sourceZone, sourceHost, destinationZone, destinationHost                      []string
	transport, appProtocol, userName, urlDomain, urlOriginal, httpMethod          []string
	urlCategory, userAgent, processName, messageTemplate, rawHead                 []string
	timestamp, ingested                                                           []time.Time
	observerIP, sourceIP, destinationIP                                           []netip.Addr
	severity, facility                                                            []uint8
	sourcePort, destinationPort, httpStatus                                       []uint16
	crossZone, rawWhole, verbatim                                                 []bool
	bytesOut, bytesIn                                                             []uint64
	labels                                                                        []map[string]string
}

func (r *eventRows) len() int { return len(r.id) }

func (r *eventRows) reset() {
	for _, s := range []*[]string{&r.id, &r.observerHost, &r.observerZone, &r.listener, &r.sourceType, &r.parseStatus,
		&r.parseError, &r.category, &r.action, &r.outcome, &r.sourceZone, &r.sourceHost, &r.destinationZone,
		&r.destinationHost, &r.transport, &r.appProtocol, &r.userName, &r.urlDomain, &r.urlOriginal, &r.httpMethod,
		&r.urlCategory, &r.userAgent, &r.processName, &r.messageTemplate, &r.rawHead} {
		clear(*s)
		*s = (*s)[:0]
	}
	r.timestamp, r.ingested = r.timestamp[:0], r.ingested[:0]
	r.observerIP, r.sourceIP, r.destinationIP = r.observerIP[:0], r.sourceIP[:0], r.destinationIP[:0]
	r.severity, r.facility = r.severity[:0], r.facility[:0]
	r.sourcePort, r.destinationPort, r.httpStatus = r.sourcePort[:0], r.destinationPort[:0], r.httpStatus[:0]
	r.crossZone, r.rawWhole, r.verbatim = r.crossZone[:0], r.rawWhole[:0], r.verbatim[:0]
	r.bytesOut, r.bytesIn = r.bytesOut[:0], r.bytesIn[:0]
	clear(r.labels)
	r.labels = r.labels[:0]
}

// add appends one event.
func (r *eventRows) add(e *event.Event) {
	labels := e.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	r.id = append(r.id, e.ID)
	r.timestamp = append(r.timestamp, e.Timestamp)
	r.ingested = append(r.ingested, e.Meta.Ingested)
	r.observerHost = append(r.observerHost, e.Observer.Hostname)
	r.observerIP = append(r.observerIP, ip6(e.Observer.IP))
	r.observerZone = append(r.observerZone, e.Observer.Zone)
	r.listener = append(r.listener, e.Log.Listener)
	r.sourceType = append(r.sourceType, e.Meta.Module)
	r.parseStatus = append(r.parseStatus, e.Log.ParseStatus)
	r.parseError = append(r.parseError, e.Log.ParseError)
	r.category = append(r.category, e.Meta.Category)
	r.action = append(r.action, e.Meta.Action)
	r.outcome = append(r.outcome, e.Meta.Outcome)
	r.severity = append(r.severity, e.Meta.Severity)
	r.facility = append(r.facility, e.Log.Facility)
	r.sourceIP = append(r.sourceIP, ip6(e.Source.IP))
	r.sourcePort = append(r.sourcePort, e.Source.Port)
	r.sourceZone = append(r.sourceZone, e.Source.Zone)
	r.sourceHost = append(r.sourceHost, e.Source.Host)
	r.destinationIP = append(r.destinationIP, ip6(e.Destination.IP))
	r.destinationPort = append(r.destinationPort, e.Destination.Port)
	r.destinationZone = append(r.destinationZone, e.Destination.Zone)
	r.destinationHost = append(r.destinationHost, e.Destination.Host)
	r.crossZone = append(r.crossZone, e.Meta.CrossZone)
	r.transport = append(r.transport, e.Network.Transport)
	r.appProtocol = append(r.appProtocol, e.Network.Protocol)
	r.userName = append(r.userName, e.User.Name)
	r.urlDomain = append(r.urlDomain, e.URL.Domain)
	r.urlOriginal = append(r.urlOriginal, e.URL.Original)
	r.httpMethod = append(r.httpMethod, e.HTTP.Method)
	r.httpStatus = append(r.httpStatus, e.HTTP.Status)
	r.urlCategory = append(r.urlCategory, e.URL.Category)
	r.userAgent = append(r.userAgent, e.HTTP.UserAgent)
	r.bytesOut = append(r.bytesOut, e.Source.Bytes)
	r.bytesIn = append(r.bytesIn, e.Destination.Bytes)
	r.processName = append(r.processName, e.Process.Name)
	text := event.StoreText(e)
	r.messageTemplate = append(r.messageTemplate, text.MessageTemplate)
	r.rawHead = append(r.rawHead, text.RawHead)
	r.rawWhole = append(r.rawWhole, text.RawWhole)
	r.verbatim = append(r.verbatim, text.Verbatim)
	r.labels = append(r.labels, labels)
}

// columns returns the column slices in eventColumns order.
func (r *eventRows) columns() []any {
	return []any{
		r.id, r.timestamp, r.ingested, r.observerHost, r.observerIP, r.observerZone, r.listener, r.sourceType,
		r.parseStatus, r.parseError,
		r.category, r.action, r.outcome, r.severity, r.facility,
		r.sourceIP, r.sourcePort, r.sourceZone, r.sourceHost,
		r.destinationIP, r.destinationPort, r.destinationZone, r.destinationHost,
		r.crossZone, r.transport, r.appProtocol, r.userName, r.urlDomain, r.urlOriginal,
		r.httpMethod, r.httpStatus, r.urlCategory, r.userAgent,
		r.bytesOut, r.bytesIn, r.processName, r.messageTemplate, r.rawHead, r.rawWhole, r.verbatim, r.labels,
	}
}

// appendTo appends the rows to an INSERT batch prepared with eventColumns.
func (r *eventRows) appendTo(b driver.Batch) error {
	for i, col := range r.columns() {
		if err := b.Column(i).Append(col); err != nil {
			return fmt.Errorf("append column %d of the events batch: %w", i, err)
		}
	}
	return nil
}

// ip6 stores every address as IPv6 (IPv4 as IPv4-mapped), and an absent one as ::.
func ip6(a netip.Addr) netip.Addr {
	return netip.AddrFrom16(a.As16())
}

// EventColumns is the events table's columns that the writer fills, in its order (for INSERT … SELECT
// copies of stored events).
const EventColumns = eventColumns

// InsertEvents inserts events into table (database.events) with the writer's own row encoding, in one
// INSERT, without JetStream and without the writer's de-duplication: for fixtures and backfills that
// must store events exactly as the writer would.
func InsertEvents(ctx context.Context, conn driver.Conn, table string, events []event.Event) error {
	var r eventRows
	for i := range events {
		r.add(&events[i])
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+eventColumns+")")
	if err != nil {
		return fmt.Errorf("insert events into %s: %w", table, err)
	}
	if err := r.appendTo(b); err != nil {
		_ = b.Abort()
		return fmt.Errorf("insert events into %s: %w", table, err)
	}
	return b.Send()
}
