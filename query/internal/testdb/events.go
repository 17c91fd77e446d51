package testdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/event"
)

// Value pools of generated events: small, so that random filters over them match some events and
// not others, with the awkward cases (empty values, unicode, quotes, line breaks, IPv6, absent
// addresses) in every pool.
var (
	Zones     = []string{"mynumber", "lgwan", "internet", "external", "unknown", ""}
	Modules   = []string{"fortigate", "iptables", "sshd", "squid", "ifilter"}
	Actions   = []string{"allow", "deny", "accept", "login", "block", ""}
	Outcomes  = []string{"success", "failure", "unknown", ""}
	Users     = []string{"admin", "adm_tanaka", "sato", "", "Ｔａｎａｋａ", "o'brien", "ADMIN"}
	Domains   = []string{"www.example.jp", "evil.example", "a.b.evil.example", "mail.city.lg.jp", "", "例え.jp", "EVIL.example."}
	Methods   = []string{"GET", "POST", "CONNECT", ""}
	Messages  = []string{"", "connection denied", "line one\nline two", "it's 100% \"quoted\"", "/* comment */ -- dash", "ログイン失敗"}
	Ports     = []uint16{0, 22, 80, 443, 3389, 8080, 53}
	Statuses  = []uint16{0, 200, 403, 404, 500}
	Prefixes  = []string{"10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16", "203.0.113.0/24", "2001:db8::/120"}
	Policies  = []string{"1", "2", "3", ""}
	Transport = []string{"tcp", "udp", "icmp", ""}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func randAddr(r *rand.Rand) netip.Addr {
	if r.IntN(8) == 0 {
		return netip.Addr{} // absent
	}
	p := netip.MustParsePrefix(pick(r, Prefixes))
	b := p.Addr().AsSlice()
	b[len(b)-1] = byte(r.IntN(256))
	if len(b) == 4 {
		b[2] = byte(r.IntN(4))
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// Generate makes n events with timestamps spread over [from, from+span), deterministic for a seed.
func Generate(r *rand.Rand, n int, from time.Time, span time.Duration) []*event.Event {
	return GenerateFrom(r, 0, n, from, span)
}

// GenerateFrom is Generate with ids numbered from first, to generate large sets in chunks.
func GenerateFrom(r *rand.Rand, first, n int, from time.Time, span time.Duration) []*event.Event {
	out := make([]*event.Event, n)
	for j := range out {
		i := first + j
		ts := from.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Millisecond).UTC()
		e := &event.Event{
			ID:        fmt.Sprintf("ev-%08d", i),
			Timestamp: ts,
			Meta: event.Meta{
				Ingested: ts.Add(time.Duration(r.IntN(5000)) * time.Millisecond),
				Module:   pick(r, Modules),
				Action:   pick(r, Actions),
				Outcome:  pick(r, Outcomes),
				Severity: uint8(r.IntN(8)),
				Original: "<134>raw line " + fmt.Sprint(i) + " ", // and the message, below
			},
			Observer:    event.Observer{Hostname: pick(r, []string{"fw1", "proxy1", "ssh-gw", ""}), IP: randAddr(r), Zone: pick(r, Zones)},
			Source:      event.Endpoint{IP: randAddr(r), Port: pick(r, Ports), Zone: pick(r, Zones), Bytes: uint64(r.IntN(1 << 20))},
			Destination: event.Endpoint{IP: randAddr(r), Port: pick(r, Ports), Zone: pick(r, Zones), Bytes: uint64(r.IntN(1 << 16))},
			Network:     event.Network{Transport: pick(r, Transport), Protocol: pick(r, []string{"https", "ssh", "dns", ""})},
			User:        event.User{Name: pick(r, Users)},
			URL:         event.URL{Domain: pick(r, Domains), Category: pick(r, []string{"malware", "news", ""})},
			HTTP:        event.HTTP{Method: pick(r, Methods), Status: pick(r, Statuses)},
			Process:     event.Process{Name: pick(r, []string{"sshd", "squid", ""})},
			Log:         event.Log{Listener: "udp514", Facility: uint8(r.IntN(24)), ParseStatus: pick(r, []string{"ok", "envelope"})},
			Message:     pick(r, Messages),
		}
		if e.URL.Domain != "" {
			e.URL.Original = "https://" + e.URL.Domain + "/path?q=1"
		}
		if e.Message == "connection denied" {
			// A message that repeats the event's fields, as real lines do: the events table stores it
			// with their values cut out (migration 0013), which filters on message must see through.
			e.Message = fmt.Sprintf("user %s from %s:%d sent %d url %s - connection denied", e.User.Name, e.Source.IP.Unmap(),
				e.Source.Port, e.Source.Bytes, e.URL.Original)
		}
		e.Meta.Original += e.Message
		e.Meta.CrossZone = e.Source.Zone != "" && e.Destination.Zone != "" && e.Source.Zone != "unknown" &&
			e.Destination.Zone != "unknown" && e.Source.Zone != e.Destination.Zone
		switch r.IntN(3) {
		case 0:
			e.Labels = map[string]string{"policyid": pick(r, Policies)}
		case 1:
			e.Labels = map[string]string{"devname": pick(r, []string{"fg-a", ""}), "policyid": pick(r, Policies)}
		}
		out[j] = e
	}
	return out
}

// columns is the writer's column list, which bulk.go generates values for.
const columns = writer.EventColumns

// Insert writes events into db.events with the writer's own row encoding.
func Insert(ctx context.Context, conn driver.Conn, db string, events []*event.Event) error {
	const batch = 100_000
	for start := 0; start < len(events); start += batch {
		part := make([]event.Event, 0, min(batch, len(events)-start))
		for _, e := range events[start:min(start+batch, len(events))] {
			part = append(part, *e)
		}
		if err := writer.InsertEvents(ctx, conn, db+".events", part); err != nil {
			return err
		}
	}
	return nil
}

func ip6(a netip.Addr) net.IP {
	if !a.IsValid() {
		return net.IPv6zero
	}
	b := a.As16()
	return net.IP(b[:])
}
