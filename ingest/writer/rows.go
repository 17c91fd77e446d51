package writer

import (
	"net"
	"net/netip"

	"github.com/zonewatch/zonewatch/internal/event"
)

// eventColumns is the column list of the events table, in the order row() returns values.
const eventColumns = `id, timestamp, ingested, observer_host, observer_ip, observer_zone, listener, source_type, parse_status, parse_error,
category, action, outcome, severity, facility,
source_ip, source_port, source_zone, source_host, destination_ip, destination_port, destination_zone, destination_host,
cross_zone, transport, app_protocol, user_name, url_domain, url_original, http_method, http_status, url_category, user_agent,
bytes_out, bytes_in, process_name, message, raw, labels`

// row maps an event to the events table's columns.
func row(e *event.Event) []any {
	labels := e.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return []any{
		e.ID, e.Timestamp, e.Meta.Ingested, e.Observer.Hostname, ip6(e.Observer.IP), e.Observer.Zone, e.Log.Listener,
		e.Meta.Module, e.Log.ParseStatus, e.Log.ParseError,
		e.Meta.Category, e.Meta.Action, e.Meta.Outcome, e.Meta.Severity, e.Log.Facility,
		ip6(e.Source.IP), e.Source.Port, e.Source.Zone, e.Source.Host,
		ip6(e.Destination.IP), e.Destination.Port, e.Destination.Zone, e.Destination.Host,
		e.Meta.CrossZone, e.Network.Transport, e.Network.Protocol, e.User.Name, e.URL.Domain, e.URL.Original,
		e.HTTP.Method, e.HTTP.Status, e.URL.Category, e.HTTP.UserAgent,
		e.Source.Bytes, e.Destination.Bytes, e.Process.Name, e.Message, e.Meta.Original, labels,
	}
}

// ip6 stores every address as IPv6 (IPv4 as IPv4-mapped), and an absent one as ::.
func ip6(a netip.Addr) net.IP {
	if !a.IsValid() {
		return net.IPv6zero
	}
	b := a.As16()
	return net.IP(b[:])
}
