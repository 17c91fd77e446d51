package rules

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// testEpoch is the time of a test event that gives none: a Wednesday, 10:00 in Tokyo, in office hours.
var testEpoch = time.Date(2026, 4, 1, 10, 0, 0, 0, time.FixedZone("JST", 9*3600))

// buildTest turns a test as written into events. An event is written with ECS names, dotted or nested:
//
//	event: {source.ip: 10.1.1.5, destination.port: 22, event: {module: sshd}}
//
// repeat: N sends each event N times, every: the step between copies, and increment: the fields that
// grow by one per copy (a number +1, an address +1, other text gets the copy number appended).
func buildTest(ts testSpec) (Test, error) {
	t := Test{Name: ts.Name, Pos: ts.pos, TickAfter: ts.TickAfter.D}
	if t.Name == "" {
		return t, fmt.Errorf("a test needs a name: say what it shows, e.g. name: 21 ports in 30 seconds")
	}
	switch strings.ToLower(strings.TrimSpace(ts.Expect.Value)) {
	case "alert", "alerts", "hit", "match":
		t.Want = -1
	case "none", "no alert", "no alerts", "miss", "no match":
		t.Want = 0
	case "":
		if ts.Alerts == nil {
			return t, fmt.Errorf("no expectation: add expect: alert, expect: none, or alerts: N")
		}
	default:
		return t, fmt.Errorf("expect: %q: write alert, none, or use alerts: N", ts.Expect.Value)
	}
	if ts.Alerts != nil {
		if *ts.Alerts < 0 {
			return t, fmt.Errorf("alerts: %d: give a count ≥ 0", *ts.Alerts)
		}
		t.Want = *ts.Alerts
	}
	raw := ts.Events
	if ts.Event != nil {
		raw = append([]map[string]any{ts.Event}, raw...)
	}
	if len(raw) == 0 {
		return t, fmt.Errorf("no events: add event: {…} or events: [{…}, …]")
	}
	repeat := max(ts.Repeat, 1)
	every := ts.Every.D
	if every == 0 {
		every = time.Second
	}
	n := 0
	var last time.Time
	for _, m := range raw {
		base, err := testEvent(m)
		if err != nil {
			return t, err
		}
		for i := 0; i < repeat; i++ {
			e := base
			e.Labels = base.Labels
			if i > 0 {
				mm := increment(m, ts.Increment, i)
				if e, err = testEvent(mm); err != nil {
					return t, err
				}
			}
			n++
			if e.Timestamp.IsZero() {
				if last.IsZero() {
					e.Timestamp = testEpoch
				} else {
					e.Timestamp = last.Add(every)
				}
			} else if i > 0 {
				e.Timestamp = e.Timestamp.Add(time.Duration(i) * every)
			}
			last = e.Timestamp
			if e.ID == "" {
				e.ID = fmt.Sprintf("test-%d", n)
			}
			t.Events = append(t.Events, &e)
		}
	}
	return t, nil
}

// testEvent decodes one event written with dotted or nested ECS names.
func testEvent(m map[string]any) (event.Event, error) {
	nested := map[string]any{}
	for k, v := range m {
		if k == "timestamp" {
			k = "@timestamp"
		}
		if t, ok := v.(time.Time); ok {
			v = t.Format(time.RFC3339Nano)
		}
		if strings.HasPrefix(k, "labels.") { // labels are text, whatever YAML made of them
			v = fmt.Sprint(v)
		}
		if err := setPath(nested, strings.Split(k, "."), v); err != nil {
			return event.Event{}, err
		}
	}
	b, err := json.Marshal(nested)
	if err != nil {
		return event.Event{}, fmt.Errorf("event %v: %w", m, err)
	}
	var e event.Event
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return event.Event{}, fmt.Errorf("event %s: %v: use ECS names such as source.ip, destination.port, event.module, user.name%s", b, err, unknownHint(err))
	}
	return e, nil
}

func unknownHint(err error) string {
	s := err.Error()
	if i := strings.Index(s, "unknown field "); i >= 0 {
		name, _ := strconv.Unquote(strings.TrimSpace(s[i+len("unknown field "):]))
		if name != "" {
			return suggest(name)
		}
	}
	return ""
}

func setPath(m map[string]any, path []string, v any) error {
	if len(path) == 1 {
		if sub, ok := v.(map[string]any); ok {
			dst, _ := m[path[0]].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				m[path[0]] = dst
			}
			for k, x := range sub {
				if err := setPath(dst, strings.Split(k, "."), x); err != nil {
					return err
				}
			}
			return nil
		}
		m[path[0]] = v
		return nil
	}
	sub, ok := m[path[0]].(map[string]any)
	if !ok {
		if _, exists := m[path[0]]; exists {
			return fmt.Errorf("field %s is both a value and a group", path[0])
		}
		sub = map[string]any{}
		m[path[0]] = sub
	}
	return setPath(sub, path[1:], v)
}

// increment returns a copy of m whose listed fields have grown by i.
func increment(m map[string]any, fields []string, i int) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, f := range fields {
		v, ok := out[f]
		if !ok {
			continue
		}
		switch x := v.(type) {
		case int:
			out[f] = x + i
		case uint64:
			out[f] = x + uint64(i)
		case int64:
			out[f] = x + int64(i)
		case float64:
			out[f] = x + float64(i)
		case string:
			if a, err := netip.ParseAddr(x); err == nil {
				for j := 0; j < i; j++ {
					a = a.Next()
				}
				out[f] = a.String()
			} else {
				out[f] = x + strconv.Itoa(i)
			}
		}
	}
	return out
}
