package parse

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Generic JSON object bodies (structured logs of applications and appliances without a parser of their
// own). Nested objects are flattened to dotted keys; known ECS-ish keys (see setKnown) fill their fields,
// the rest become labels, up to Options.MaxLabels. Example:
//
//	{"@timestamp":"2026-11-25T00:15:01Z","source":{"ip":"10.20.1.5","port":51234},"user":{"name":"tanaka"},"event":{"action":"file-upload"},"app":"kintai"}
//
// Fields: whatever known keys are present; module json. A body that is not one valid JSON object is not
// this format.
func (p *Parsers) parseJSON(body string, loc *time.Location, e *event.Event) (bool, error) {
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return false, nil
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || dec.More() {
		return false, nil
	}
	e.Meta.Module = FormatJSON
	p.flatten(e, "", m, loc, 0)
	return true, nil
}

// maxJSONDepth bounds flattening; deeper values are kept as JSON text.
const maxJSONDepth = 8

func (p *Parsers) flatten(e *event.Event, prefix string, m map[string]any, loc *time.Location, depth int) {
	for _, k := range slices.Sorted(maps.Keys(m)) { // sorted: which labels survive MaxLabels is stable
		v := m[k]
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		var s string
		switch v := v.(type) {
		case map[string]any:
			if depth < maxJSONDepth {
				p.flatten(e, key, v, loc, depth+1)
				continue
			}
			s = jsonText(v)
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = strconv.FormatBool(v)
		case nil:
			continue
		default: // arrays
			s = jsonText(v)
		}
		if !setKnown(e, key, s, loc) {
			setLabel(e, p.maxLabels, key, s)
		}
	}
}

func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimRight(b.String(), "\n")
}
