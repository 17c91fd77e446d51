package filter

import (
	"fmt"
	"github.com/agnivade/levenshtein"
	"slices"
	"strings"
)

// Kind is the type of a field or of a compiled operand.
type Kind int

// Kinds of values a filter handles.
const (
	KindInvalid Kind = iota
	KindString
	KindInt // integer constant (signed) or unsigned integer column
	KindFloat
	KindBool
	KindIP
	KindTime
	KindMap // labels
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "integer"
	case KindFloat:
		return "number"
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

func (k Kind) numeric() bool { return k == KindInt || k == KindFloat }

// Field maps an event path (as rules and filters name it) to its column in the events table.
type Field struct {
	Path   string // ECS path: source.zone
	Column string // ClickHouse column of the events table: source_zone
	Kind   Kind
}

// fields is the fixed table of filterable fields: identifiers in SQL come only from here.
var fields = []Field{
	{"id", "id", KindString},
	{"timestamp", "timestamp", KindTime},
	{"message", "message", KindString},
	{"labels", "labels", KindMap},
	{"event.ingested", "ingested", KindTime},
	{"event.module", "source_type", KindString},
	{"event.category", "category", KindString},
	{"event.action", "action", KindString},
	{"event.outcome", "outcome", KindString},
	{"event.severity", "severity", KindInt},
	{"event.cross_zone", "cross_zone", KindBool},
	{"event.original", "raw", KindString},
	{"observer.hostname", "observer_host", KindString},
	{"observer.ip", "observer_ip", KindIP},
	{"observer.zone", "observer_zone", KindString},
	{"source.ip", "source_ip", KindIP},
	{"source.port", "source_port", KindInt},
	{"source.zone", "source_zone", KindString},
	{"source.host", "source_host", KindString},
	{"source.bytes", "bytes_out", KindInt},
	{"destination.ip", "destination_ip", KindIP},
	{"destination.port", "destination_port", KindInt},
	{"destination.zone", "destination_zone", KindString},
	{"destination.host", "destination_host", KindString},
	{"destination.bytes", "bytes_in", KindInt},
	{"network.transport", "transport", KindString},
	{"network.protocol", "app_protocol", KindString},
	{"user.name", "user_name", KindString},
	{"url.original", "url_original", KindString},
	{"url.domain", "url_domain", KindString},
	{"url.category", "url_category", KindString},
	{"http.method", "http_method", KindString},
	{"http.status", "http_status", KindInt},
	{"http.user_agent", "user_agent", KindString},
	{"process.name", "process_name", KindString},
	{"log.listener", "listener", KindString},
	{"log.facility", "facility", KindInt},
	{"log.parse_status", "parse_status", KindString},
	{"log.parse_error", "parse_error", KindString},
}

// groups are the event paths that hold fields (source, destination …), not values.
var groups = []string{"event", "observer", "source", "destination", "network", "user", "url", "http", "process", "log"}

// Fields returns the filterable fields, in a stable order.
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

// unknownField explains an unknown path and proposes the closest known one.
func unknownField(path string) string {
	msg := fmt.Sprintf("unknown field %q: use an event field such as source.zone, destination.port, user.name, url.domain or labels.<name>", path)
	best, bestD := "", 4
	for _, f := range fields {
		if d := levenshtein.ComputeDistance(path, f.Path); d < bestD {
			best, bestD = f.Path, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	return msg
}

func isGroup(name string) bool { return slices.Contains(groups, name) }

func groupFields(group string) []string {
	var out []string
	for _, f := range fields {
		if strings.HasPrefix(f.Path, group+".") {
			out = append(out, f.Path)
		}
	}
	return out
}
