// Package pipeline turns received messages into normalised, zone-tagged events and publishes them to
// JetStream: the part of ingest between the listeners and NATS.
package pipeline

import (
	"errors"
	"net/netip"
	"time"

	"github.com/zonewatch/zonewatch/ingest/envelope"
	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/zone"
)

// Normaliser parses one message into an event. It is not safe for concurrent use: each connection or
// listener goroutine has its own (they share the zone map and the parsers, which are read-only).
type Normaliser struct {
	env     *envelope.Parser
	parsers *parse.Parsers
	zones   *zone.Map
	loc     *time.Location
	now     func() time.Time
	ids     event.IDs
	// The zone of the last observer tagged: a connection's lines all come from one peer.
	lastObserver     netip.Addr
	lastObserverZone string
	places           placeCache
}

// placeCache remembers the zone and named host of recently tagged addresses: a network's traffic comes
// from and goes to few addresses, and a zone map lookup is a map lookup per prefix length. Direct
// mapped on the address's last bytes; the zone map never changes, so an entry never goes stale.
type placeCache [256]struct {
	ip         netip.Addr
	zone, host string
}

func (c *placeCache) lookup(m *zone.Map, ip netip.Addr) (zoneName, host string) {
	b := ip.As16()
	slot := &c[b[15]^b[14]<<1]
	if slot.ip == ip && ip.IsValid() {
		return slot.zone, slot.host
	}
	zoneName = m.Zone(ip)
	if h, ok := m.Host(ip); ok {
		host = h.Name
	}
	slot.ip, slot.zone, slot.host = ip, zoneName, host
	return zoneName, host
}

// NormaliserOptions configure a Normaliser.
type NormaliserOptions struct {
	Zones    *zone.Map
	Parsers  *parse.Parsers
	Location *time.Location // of device clocks without an offset
	Now      func() time.Time
}

// NewNormaliser makes a Normaliser.
func NewNormaliser(o NormaliserOptions) *Normaliser {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return &Normaliser{
		env:     envelope.New(envelope.Options{Location: o.Location, Now: o.Now}),
		parsers: o.Parsers, zones: o.Zones, loc: o.Location, now: o.Now,
	}
}

// ErrNoEnvelope marks a message that is not syslog at all: it goes to the dead letters.
var ErrNoEnvelope = errors.New("not a syslog message")

// Syslog normalises one syslog message received on a listener from a peer. A message whose envelope cannot
// be read returns ErrNoEnvelope (wrapped with the reason) and an event that still carries the raw line. A
// message whose body no parser understands is an event with parse status "envelope" and the reason.
func (n *Normaliser) Syslog(listener string, peer netip.Addr, raw []byte) (event.Event, error) {
	var e event.Event
	err := n.SyslogInto(&e, listener, peer, raw)
	return e, err
}

// SyslogInto is Syslog into an event the caller has (which it resets first), without copying the
// event on return.
func (n *Normaliser) SyslogInto(e *event.Event, listener string, peer netip.Addr, raw []byte) error {
	now := n.now()
	*e = event.Event{ID: n.ids.New(now), Timestamp: now.UTC()}
	e.Meta.Ingested = e.Timestamp
	e.Meta.Original = string(raw)
	e.Log.Listener = listener
	e.Observer.IP = peer.Unmap()
	env, err := n.env.ParseAt(raw, now)
	if err != nil {
		e.Log.ParseStatus = event.ParseFailed
		e.Log.ParseError = err.Error()
		e.Meta.Module = "syslog"
		n.Tag(e)
		return errors.Join(ErrNoEnvelope, err)
	}
	if !env.Timestamp.IsZero() {
		e.Timestamp = env.Timestamp
	}
	e.Observer.Hostname = env.Hostname
	e.Process.Name = env.AppName
	e.Meta.Severity = env.Severity
	e.Log.Facility = env.Facility
	e.Message = env.Body
	if env.Charset != "" {
		e.Labels = map[string]string{"charset": env.Charset}
	}
	format, perr := n.parsers.Parse(parse.Input{AppName: env.AppName, Hostname: env.Hostname, Body: env.Body, Received: now, Loc: n.loc}, e)
	e.Meta.Module = format
	e.Log.ParseStatus = event.ParseOK
	if perr != nil {
		e.Log.ParseStatus = event.ParseEnvelope
		e.Log.ParseError = perr.Error()
	}
	n.Tag(e)
	return nil
}

// Tag fills the zones and named hosts of source, destination and observer, and whether the flow crosses
// zones. It runs once, here, so that rules and dashboards never recompute it.
func (n *Normaliser) Tag(e *event.Event) {
	n.tagEndpoint(&e.Source)
	n.tagEndpoint(&e.Destination)
	if ip := e.Observer.IP; ip.IsValid() {
		if ip != n.lastObserver {
			n.lastObserver, n.lastObserverZone = ip, n.zones.Zone(ip)
		}
		e.Observer.Zone = n.lastObserverZone
	}
	e.Meta.CrossZone = zone.Crosses(e.Source.Zone, e.Destination.Zone)
}

func (n *Normaliser) tagEndpoint(ep *event.Endpoint) {
	if !ep.IP.IsValid() {
		return
	}
	ep.IP = ep.IP.Unmap()
	z, host := n.places.lookup(n.zones, ep.IP)
	ep.Zone = z
	if host != "" {
		ep.Host = host
	}
}

// File normalises one line of a proxy log file of a known format. The id comes from the file follower
// (stable per file and offset). A line the format does not fit returns an error; the caller keeps it as a
// dead letter.
func (n *Normaliser) File(input, format, id, line string) (event.Event, error) {
	now := n.now()
	e := event.Event{ID: id, Timestamp: now.UTC()}
	e.Meta.Ingested = now.UTC()
	e.Meta.Original = line
	// A file line has no envelope: the whole line is its message, as the body is for a syslog line
	// (so a search of message finds a proxy line whether it came by syslog or from a file).
	e.Message = line
	e.Log.Listener = input
	if err := n.parsers.ParseFile(format, line, n.loc, &e); err != nil {
		e.Log.ParseStatus = event.ParseFailed
		e.Log.ParseError = err.Error()
		return e, err
	}
	e.Log.ParseStatus = event.ParseOK
	n.Tag(&e)
	return e, nil
}
