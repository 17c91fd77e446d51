package parse

import (
	"net/netip"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// setKnown puts the value of a well-known key of a generic body (JSON or key=value) into its ECS field.
// Keys are ECS dotted names or the common short names devices use. It reports false when the key is not
// known or the value does not fit the field (then the caller keeps it as a label: a generic body is never
// an error for one odd value).
func setKnown(e *event.Event, key, v string, loc *time.Location) bool {
	switch key {
	case "@timestamp", "timestamp", "time", "ts", "event.created":
		if t, ok := anyTime(v, loc); ok {
			e.Timestamp = t
			return true
		}
	case "source.ip", "src_ip", "srcip", "src", "client_ip", "client.ip", "saddr":
		return knownIP(&e.Source.IP, v)
	case "destination.ip", "dst_ip", "dstip", "dst", "dest_ip", "server.ip", "daddr":
		return knownIP(&e.Destination.IP, v)
	case "source.port", "src_port", "srcport", "sport", "spt":
		return knownPort(&e.Source.Port, v)
	case "destination.port", "dst_port", "dstport", "dport", "dpt", "dest_port":
		return knownPort(&e.Destination.Port, v)
	case "source.bytes", "sentbyte", "bytes_out", "sent_bytes":
		return knownBytes(&e.Source.Bytes, v)
	case "destination.bytes", "rcvdbyte", "bytes_in", "received_bytes":
		return knownBytes(&e.Destination.Bytes, v)
	case "user.name", "user", "username", "usr", "account":
		e.User.Name = v
		return v != ""
	case "event.action", "action":
		e.Meta.Action = v
		return v != ""
	case "event.outcome", "outcome":
		switch v {
		case event.OutcomeSuccess, event.OutcomeFailure, event.OutcomeUnknown:
			e.Meta.Outcome = v
			return true
		}
	case "event.category":
		e.Meta.Category = v
		return v != ""
	case "network.transport", "proto", "transport":
		e.Network.Transport = transport(v)
		return v != ""
	case "network.protocol", "service", "app_proto":
		e.Network.Protocol = appProto(v)
		return v != ""
	case "url.original", "url", "uri":
		e.URL.Original = v
		if e.URL.Domain == "" {
			e.URL.Domain = urlHost(v)
		}
		return v != ""
	case "url.domain", "domain", "url.host":
		e.URL.Domain = lower(v)
		return v != ""
	case "url.category", "catdesc", "url_category":
		e.URL.Category = v
		return v != ""
	case "http.method", "http.request.method", "method":
		e.HTTP.Method = v
		return v != ""
	case "http.status", "http.response.status_code", "status_code":
		n, ok := atou(v, 999)
		e.HTTP.Status = uint16(n)
		return ok
	case "http.user_agent", "user_agent.original", "user_agent", "useragent":
		e.HTTP.UserAgent = v
		return v != ""
	case "message", "msg":
		e.Message = v
		return v != ""
	}
	return false
}

func knownIP(dst *netip.Addr, v string) bool {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	*dst = a.Unmap()
	return true
}

func knownPort(dst *uint16, v string) bool {
	n, ok := atou(v, 65535)
	if ok {
		*dst = uint16(n)
	}
	return ok
}

func knownBytes(dst *uint64, v string) bool {
	n, ok := atou(v, 1<<63)
	if ok {
		*dst = n
	}
	return ok
}

// anyTime reads the time forms generic bodies use: RFC 3339, "2026-11-25 09:15:01" (in loc), epoch
// seconds with or without a fraction, or an integer epoch in ms, µs or ns.
func anyTime(v string, loc *time.Location) (time.Time, bool) {
	if len(v) >= 19 && (v[10] == 'T' || v[10] == ' ') && v[4] == '-' {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC(), true
		}
		if len(v) == 19 {
			return dateClock(v[:10], v[11:], loc)
		}
		return time.Time{}, false
	}
	if t, ok := epoch(v); ok {
		return t, true
	}
	return epochAuto(v)
}
