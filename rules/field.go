package rules

import (
	"fmt"
	"github.com/agnivade/levenshtein"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// field reads one event field by its ECS name (source.ip, labels.policyid …) as text, for group keys,
// distinct counts and absence keys.
type field struct {
	name string
	get  func(e *event.Event) string
}

var eventType = reflect.TypeOf(event.Event{})

// fieldNames lists the ECS names of the event's scalar fields.
func fieldNames() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("expr")
			if tag == "" {
				continue
			}
			if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeOf(time.Time{}) && sf.Type != addrType {
				walk(sf.Type, prefix+tag+".")
				continue
			}
			out = append(out, prefix+tag)
		}
	}
	walk(eventType, "")
	return out
}

// newField resolves an ECS name to an accessor.
func newField(name string) (field, error) {
	if key, ok := strings.CutPrefix(name, "labels."); ok {
		return field{name: name, get: func(e *event.Event) string { return e.Labels[key] }}, nil
	}
	t := eventType
	var index []int
	parts := strings.Split(name, ".")
	for i, p := range parts {
		found := false
		for j := 0; j < t.NumField(); j++ {
			if t.Field(j).Tag.Get("expr") == p {
				index = append(index, j)
				t = t.Field(j).Type
				found = true
				break
			}
		}
		if !found || (i < len(parts)-1 && t.Kind() != reflect.Struct) {
			return field{}, fmt.Errorf("unknown field %q: use an event field such as source.ip, destination.port, user.name or labels.<name>%s", name, suggest(name))
		}
	}
	if t.Kind() == reflect.Struct && t != addrType && t != reflect.TypeOf(time.Time{}) {
		return field{}, fmt.Errorf("field %q is a group of fields, not a value: name one of its fields", name)
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
	return field{name: name, get: func(e *event.Event) string {
		return valueString(reflect.ValueOf(e).Elem().FieldByIndex(index))
	}}, nil
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func valueString(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case string:
		return x
	case netip.Addr:
		return addrString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(x)
	}
	switch v.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	}
	return fmt.Sprint(v.Interface())
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
