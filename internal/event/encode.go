package event

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON of e to dst: byte for byte what encoding/json's Marshal writes for an
// Event (field order, omitempty and omitzero, RFC 3339 times, sorted labels, the same string escapes
// including the HTML ones), held to it by TestAppendJSONMatchesEncodingJSON and FuzzAppendJSON.
//
// It is written out by hand because encoding was the largest single cost of ingest after parsing: a
// quarter of the CPU with go-json, which reflects over the struct for every event; this is a few times
// faster and allocates nothing when dst has room. The error, as encoding/json's, is for a time outside
// the years 0–9999; dst is then returned as it was.
func AppendJSON(dst []byte, e *Event) ([]byte, error) {
	start := len(dst)
	var err error
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"@timestamp":`...)
	if dst, err = appendTime(dst, e.Timestamp, "@timestamp"); err != nil {
		return dst[:start], err
	}
	if dst, err = appendMeta(dst, &e.Meta); err != nil {
		return dst[:start], err
	}
	dst = append(dst, `,"observer":{`...)
	o := len(dst)
	dst = appendField(dst, o, "hostname", e.Observer.Hostname)
	dst = appendAddr(dst, o, e.Observer.IP)
	dst = appendField(dst, o, "zone", e.Observer.Zone)
	dst = append(dst, `},"source":{`...)
	dst = appendEndpoint(dst, &e.Source)
	dst = append(dst, `},"destination":{`...)
	dst = appendEndpoint(dst, &e.Destination)
	dst = append(dst, `},"network":{`...)
	o = len(dst)
	dst = appendField(dst, o, "transport", e.Network.Transport)
	dst = appendField(dst, o, "protocol", e.Network.Protocol)
	dst = append(dst, `},"user":{`...)
	dst = appendField(dst, len(dst), "name", e.User.Name)
	dst = append(dst, `},"url":{`...)
	o = len(dst)
	dst = appendField(dst, o, "original", e.URL.Original)
	dst = appendField(dst, o, "domain", e.URL.Domain)
	dst = appendField(dst, o, "category", e.URL.Category)
	dst = append(dst, `},"http":{`...)
	o = len(dst)
	dst = appendField(dst, o, "method", e.HTTP.Method)
	dst = appendUint(dst, o, "status", uint64(e.HTTP.Status), true)
	dst = appendField(dst, o, "user_agent", e.HTTP.UserAgent)
	dst = append(dst, `},"process":{`...)
	dst = appendField(dst, len(dst), "name", e.Process.Name)
	dst = append(dst, `},"log":{`...)
	o = len(dst)
	dst = appendField(dst, o, "listener", e.Log.Listener)
	dst = appendUint(dst, o, "facility", uint64(e.Log.Facility), false)
	dst = append(dst, `,"parse_status":`...)
	dst = appendString(dst, e.Log.ParseStatus)
	dst = appendField(dst, o, "parse_error", e.Log.ParseError)
	dst = append(dst, '}')
	if e.Message != "" {
		dst = append(dst, `,"message":`...)
		dst = appendString(dst, e.Message)
	}
	if len(e.Labels) > 0 {
		dst = appendLabels(dst, e.Labels)
	}
	return append(dst, '}'), nil
}

func appendMeta(dst []byte, m *Meta) ([]byte, error) {
	dst = append(dst, `,"event":{"ingested":`...)
	dst, err := appendTime(dst, m.Ingested, "event.ingested")
	if err != nil {
		return dst, err
	}
	dst = append(dst, `,"module":`...)
	dst = appendString(dst, m.Module)
	dst = appendField(dst, 0, "category", m.Category)
	dst = appendField(dst, 0, "action", m.Action)
	dst = appendField(dst, 0, "outcome", m.Outcome)
	dst = appendUint(dst, 0, "severity", uint64(m.Severity), false)
	if m.CrossZone {
		dst = append(dst, `,"cross_zone":true`...)
	}
	dst = append(dst, `,"original":`...)
	dst = appendString(dst, m.Original)
	return append(dst, '}'), nil
}

func appendEndpoint(dst []byte, ep *Endpoint) []byte {
	o := len(dst)
	dst = appendAddr(dst, o, ep.IP)
	dst = appendUint(dst, o, "port", uint64(ep.Port), true)
	dst = appendField(dst, o, "zone", ep.Zone)
	dst = appendField(dst, o, "host", ep.Host)
	return appendUint(dst, o, "bytes", ep.Bytes, true)
}

// key appends a member's key, with the comma before it unless it is the first of its object (the
// object's members start at offset open).
func key(dst []byte, open int, name string) []byte {
	if len(dst) > open {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// appendField appends a string member, omitted when empty (omitempty).
func appendField(dst []byte, open int, name, v string) []byte {
	if v == "" {
		return dst
	}
	return appendString(key(dst, open, name), v)
}

func appendUint(dst []byte, open int, name string, v uint64, omitEmpty bool) []byte {
	if omitEmpty && v == 0 {
		return dst
	}
	return strconv.AppendUint(key(dst, open, name), v, 10)
}

// appendAddr appends "ip", omitted when the address is the zero value (omitzero); the text is
// netip.Addr's MarshalText.
func appendAddr(dst []byte, open int, ip netip.Addr) []byte {
	if ip == (netip.Addr{}) {
		return dst
	}
	dst = key(dst, open, "ip")
	if ip.Zone() != "" {
		return appendString(dst, ip.String()) // a zone may need escaping
	}
	dst = append(dst, '"')
	dst = ip.AppendTo(dst)
	return append(dst, '"')
}

// appendTime appends t as time.Time's MarshalJSON does: RFC 3339 with nanoseconds, trailing zeros cut.
func appendTime(dst []byte, t time.Time, field string) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return dst, fmt.Errorf("encode event: %s %v is outside the years 0–9999 that JSON times can hold", field, t)
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"'), nil
}

func appendLabels(dst []byte, labels map[string]string) []byte {
	var small [16]string
	keys := small[:0]
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, `,"labels":{`...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, labels[k])
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// safe marks the ASCII bytes encoding/json writes as they are (with HTML escaping, as json.Marshal does):
// all but control characters, '"', '\\', '<', '>' and '&'.
var safe = func() (s [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		s[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return s
}()

// appendString appends s as a JSON string with encoding/json's escapes: \" \\ \b \f \n \r \t, \u00XX for
// other control characters and for < > &, \ufffd for bytes that are not UTF-8, and \u2028 \u2029.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight plain ASCII bytes at a time: most of an event's text (the raw line above all) needs no
		// escape, and a byte at a time was most of the encoding's time.
		if i+8 <= len(s) && !needsEscape(load64(s, i)) {
			i += 8
			continue
		}
		// Something in the next eight bytes is not plain: go through them one at a time (a rune may
		// reach past them).
		for lim := min(i+8, len(s)); i < lim; {
			b := s[i]
			if b < utf8.RuneSelf {
				i++
				if safe[b] {
					continue
				}
				dst = append(dst, s[start:i-1]...)
				dst = appendEscape(dst, b)
				start = i
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				start = i + size
			case r == '\u2028' || r == '\u2029':
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
				start = i + size
			}
			i += size
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscape appends the escape of an ASCII byte that is not written as it is.
func appendEscape(dst []byte, b byte) []byte {
	switch b {
	case '\\', '"':
		return append(dst, '\\', b)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// needsEscape tells whether any of the eight bytes in x is not plain: not ASCII, a control character,
// or one of " & < > \\. Each test is the classic "has a byte less than n" / "has a zero byte" bit
// trick; their borrows can mark bytes after a real match, never a word without one. '"' (0x22) and '&'
// (0x26) differ in one bit, as '<' (0x3c) and '>' (0x3e) do, so clearing that bit tests two at once;
// small enough to inline.
func needsEscape(x uint64) bool {
	control := (x - ones*0x20) & ^x
	qa := x&^(ones*0x04) ^ (ones * '"')
	lg := x&^(ones*0x02) ^ (ones * '<')
	bs := x ^ (ones * '\\')
	special := (qa-ones)&^qa | (lg-ones)&^lg | (bs-ones)&^bs
	return (x|control|special)&highs != 0
}
