package event

import (
	"slices"
)

// Kind is the type of a field's value.
type Kind int

// Kinds of field values.
const (
	KindString Kind = iota + 1
	KindUint        // unsigned integer (ports, bytes, severity …)
	KindBool
	KindIP   // netip.Addr; the zero Addr is "absent"
	KindTime // time.Time, UTC
	KindMap  // labels: map[string]string
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindUint:
		return "integer"
	case KindBool:
		return "bool"
	case KindIP:
		return "IP address"
	case KindTime:
		return "time"
	case KindMap:
		return "map"
	}
	return "invalid"
}

// Field is one field of the event under its three names: the ECS path that rules and filters
// use, the events table's column, and the Go accessor. It is the one table of them: the filter
// compiler (query/filter) takes SQL identifiers only from here, the rule engine (rules) reads
// group keys and distinct values through Get.
type Field struct {
	Path   string // ECS path: source.zone
	Column string // column of the events table: source_zone
	Kind   Kind
	// Get returns the field's value: string, uint64, bool, netip.Addr, time.Time or
	// map[string]string by Kind (integers widened to uint64).
	Get func(e *Event) any
}

// fields is the table. The columns are those of internal/clickhouse's events table; a test
// checks every expr-tagged field of Event is here once, and query/filter's tests check every
// column against the real table.
var fields = []Field{
	{"id", "id", KindString, func(e *Event) any { return e.ID }},
	{"timestamp", "timestamp", KindTime, func(e *Event) any { return e.Timestamp }},
	{"message", "message", KindString, func(e *Event) any { return e.Message }},
	{"labels", "labels", KindMap, func(e *Event) any { return e.Labels }},
	{"event.ingested", "ingested", KindTime, func(e *Event) any { return e.Meta.Ingested }},
	{"event.module", "source_type", KindString, func(e *Event) any { return e.Meta.Module }},
	{"event.category", "category", KindString, func(e *Event) any { return e.Meta.Category }},
	{"event.action", "action", KindString, func(e *Event) any { return e.Meta.Action }},
	{"event.outcome", "outcome", KindString, func(e *Event) any { return e.Meta.Outcome }},
	{"event.severity", "severity", KindUint, func(e *Event) any { return uint64(e.Meta.Severity) }},
	{"event.cross_zone", "cross_zone", KindBool, func(e *Event) any { return e.Meta.CrossZone }},
	{"event.original", "raw", KindString, func(e *Event) any { return e.Meta.Original }},
	{"observer.hostname", "observer_host", KindString, func(e *Event) any { return e.Observer.Hostname }},
	{"observer.ip", "observer_ip", KindIP, func(e *Event) any { return e.Observer.IP }},
	{"observer.zone", "observer_zone", KindString, func(e *Event) any { return e.Observer.Zone }},
	{"source.ip", "source_ip", KindIP, func(e *Event) any { return e.Source.IP }},
	{"source.port", "source_port", KindUint, func(e *Event) any { return uint64(e.Source.Port) }},
	{"source.zone", "source_zone", KindString, func(e *Event) any { return e.Source.Zone }},
	{"source.host", "source_host", KindString, func(e *Event) any { return e.Source.Host }},
	{"source.bytes", "bytes_out", KindUint, func(e *Event) any { return e.Source.Bytes }},
	{"destination.ip", "destination_ip", KindIP, func(e *Event) any { return e.Destination.IP }},
	{"destination.port", "destination_port", KindUint, func(e *Event) any { return uint64(e.Destination.Port) }},
	{"destination.zone", "destination_zone", KindString, func(e *Event) any { return e.Destination.Zone }},
	{"destination.host", "destination_host", KindString, func(e *Event) any { return e.Destination.Host }},
	{"destination.bytes", "bytes_in", KindUint, func(e *Event) any { return e.Destination.Bytes }},
	{"network.transport", "transport", KindString, func(e *Event) any { return e.Network.Transport }},
	{"network.protocol", "app_protocol", KindString, func(e *Event) any { return e.Network.Protocol }},
	{"user.name", "user_name", KindString, func(e *Event) any { return e.User.Name }},
	{"url.original", "url_original", KindString, func(e *Event) any { return e.URL.Original }},
	{"url.domain", "url_domain", KindString, func(e *Event) any { return e.URL.Domain }},
	{"url.category", "url_category", KindString, func(e *Event) any { return e.URL.Category }},
	{"http.method", "http_method", KindString, func(e *Event) any { return e.HTTP.Method }},
	{"http.status", "http_status", KindUint, func(e *Event) any { return uint64(e.HTTP.Status) }},
	{"http.user_agent", "user_agent", KindString, func(e *Event) any { return e.HTTP.UserAgent }},
	{"process.name", "process_name", KindString, func(e *Event) any { return e.Process.Name }},
	{"log.listener", "listener", KindString, func(e *Event) any { return e.Log.Listener }},
	{"log.facility", "facility", KindUint, func(e *Event) any { return uint64(e.Log.Facility) }},
	{"log.parse_status", "parse_status", KindString, func(e *Event) any { return e.Log.ParseStatus }},
	{"log.parse_error", "parse_error", KindString, func(e *Event) any { return e.Log.ParseError }},
}

// groups are the paths that hold fields (source, destination …), not values.
var groups = []string{"event", "observer", "source", "destination", "network", "user", "url", "http", "process", "log"}

// Fields returns every field of the event, in a stable order.
func Fields() []Field { return slices.Clone(fields) }

// LookupField returns the field with the given ECS path (source.zone), or false.
func LookupField(path string) (Field, bool) {
	for _, f := range fields {
		if f.Path == path {
			return f, true
		}
	}
	return Field{}, false
}

// LookupColumn returns the field stored in the given events column (source_zone), or false.
func LookupColumn(col string) (Field, bool) {
	for _, f := range fields {
		if f.Column == col {
			return f, true
		}
	}
	return Field{}, false
}

// IsGroup reports whether path names a group of fields (source) rather than a field.
func IsGroup(path string) bool { return slices.Contains(groups, path) }
