package filter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"

	"github.com/zonewatch/zonewatch/internal/event"
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

// fields is the fixed table of filterable fields, internal/event's field table with the kinds the
// compiler works in: identifiers in SQL come only from here.
var fields = func() []Field {
	var out []Field
	for _, f := range event.Fields() {
		out = append(out, Field{Path: f.Path, Column: f.Column, Kind: kindOf(f.Kind)})
	}
	return out
}()

func kindOf(k event.Kind) Kind {
	switch k {
	case event.KindString:
		return KindString
	case event.KindUint:
		return KindInt
	case event.KindBool:
		return KindBool
	case event.KindIP:
		return KindIP
	case event.KindTime:
		return KindTime
	case event.KindMap:
		return KindMap
	}
	return KindInvalid
}

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

func isGroup(name string) bool { return event.IsGroup(name) }

func groupFields(group string) []string {
	var out []string
	for _, f := range fields {
		if strings.HasPrefix(f.Path, group+".") {
			out = append(out, f.Path)
		}
	}
	return out
}
