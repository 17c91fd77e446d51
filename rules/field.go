package rules

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"

	"github.com/zonewatch/zonewatch/internal/event"
)

// field reads one event field by its ECS name (source.ip, labels.policyid …) as text, for group keys,
// distinct counts and absence keys.
type field struct {
	name string
	get  func(e *event.Event) string
}

// fieldNames lists the ECS names of the event's fields (internal/event's field table).
func fieldNames() []string {
	var out []string
	for _, f := range event.Fields() {
		out = append(out, f.Path)
	}
	return out
}

// newField resolves an ECS name to an accessor.
func newField(name string) (field, error) {
	if key, ok := strings.CutPrefix(name, "labels."); ok {
		return field{name: name, get: func(e *event.Event) string { return e.Labels[key] }}, nil
	}
	if event.IsGroup(name) {
		return field{}, fmt.Errorf("field %q is a group of fields, not a value: name one of its fields", name)
	}
	f, ok := event.LookupField(name)
	if !ok {
		return field{}, fmt.Errorf("unknown field %q: use an event field such as source.ip, destination.port, user.name or labels.<name>%s", name, suggest(name))
	}
	// Fast paths for the fields rules group by most.
	switch name {
	case "source.ip":
		return field{name, func(e *event.Event) string { return addrString(e.Source.IP) }}, nil
	case "destination.ip":
		return field{name, func(e *event.Event) string { return addrString(e.Destination.IP) }}, nil
	case "destination.port":
		return field{name, func(e *event.Event) string { return strconv.Itoa(int(e.Destination.Port)) }}, nil
	case "user.name":
		return field{name, func(e *event.Event) string { return e.User.Name }}, nil
	case "observer.hostname":
		return field{name, func(e *event.Event) string { return e.Observer.Hostname }}, nil
	}
	return field{name: name, get: func(e *event.Event) string { return valueString(f.Get(e)) }}, nil
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// valueString formats a value of event.Field.Get.
func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case netip.Addr:
		return addrString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return fmt.Sprint(v)
}

// suggest proposes the known field closest to a misspelt one.
func suggest(name string) string {
	best, bestD := "", 4
	for _, f := range fieldNames() {
		if d := levenshtein.ComputeDistance(name, f); d < bestD {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}
