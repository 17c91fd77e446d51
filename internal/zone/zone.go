// Package zone maps addresses to the network zones of the security policy (mynumber, lgwan, internet and
// the networks outside), knows the named hosts (sanitisation gateways, proxies …), and decides whether a
// flow crosses zones. It is built once from configuration and is safe for concurrent use.
package zone

import (
	"fmt"
	"net/netip"
	"slices"
)

// The zones of the policy; a deployment may name more (outside networks) in its configuration.
const (
	MyNumber = "mynumber"
	LGWAN    = "lgwan"
	Internet = "internet"
	Unknown  = "unknown"
)

// Host roles that the policy gives meaning to.
const (
	RoleSanitizer = "sanitizer" // 無害化: mail text conversion, file sanitisation, screen transfer
	RoleProxy     = "proxy"     // the security cloud proxy, or a local proxy in front of it
)

// Options describe the map.
type Options struct {
	// Zones maps a zone name to its address ranges.
	Zones map[string][]netip.Prefix
	// Hosts are named hosts; an address of a host is classified into the zone its ranges say.
	Hosts []Host
	// Default is the zone of an address that no range covers and that is not private (e.g. "external").
	// Private, loopback and link-local addresses that no range covers are Unknown.
	Default string
}

// Host is a named device the policy cares about.
type Host struct {
	Name      string
	Role      string
	Addresses []netip.Addr
}

// Map classifies addresses. Longest prefix wins; IPv4 and IPv6 (and IPv4-mapped IPv6) are handled.
type Map struct {
	byLen   map[int]map[netip.Prefix]string // prefix length → masked prefix → zone
	lengths []int                           // distinct prefix lengths, longest first
	hosts   map[netip.Addr]Host
	def     string
}

// New builds a Map, refusing ranges that are claimed by two zones.
func New(opts Options) (*Map, error) {
	m := &Map{byLen: map[int]map[netip.Prefix]string{}, hosts: map[netip.Addr]Host{}, def: opts.Default}
	names := make([]string, 0, len(opts.Zones))
	for name := range opts.Zones {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic error messages
	for _, name := range names {
		for _, p := range opts.Zones[name] {
			if err := m.add(name, p); err != nil {
				return nil, err
			}
		}
	}
	for _, h := range opts.Hosts {
		for _, a := range h.Addresses {
			if prev, ok := m.hosts[a.Unmap()]; ok {
				return nil, fmt.Errorf("address %s is given to two hosts, %q and %q: give each address to one host", a, prev.Name, h.Name)
			}
			m.hosts[a.Unmap()] = h
		}
	}
	return m, nil
}

func (m *Map) add(zone string, p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("zone %s: invalid prefix %v", zone, p)
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is6() {
		bits += 1000 // keep IPv6 lengths apart from IPv4 ones in the index
	}
	set := m.byLen[bits]
	if set == nil {
		set = map[netip.Prefix]string{}
		m.byLen[bits] = set
		m.lengths = append(m.lengths, bits)
		slices.SortFunc(m.lengths, func(a, b int) int { return b%1000 - a%1000 })
	}
	if prev, ok := set[p]; ok && prev != zone {
		return fmt.Errorf("range %s is in two zones, %q and %q: a range belongs to one zone", p, prev, zone)
	}
	set[p] = zone
	return nil
}

// Zone returns the zone of an address: the zone of the longest range that covers it, else Default for a
// public address, else Unknown. An invalid (absent) address is "".
func (m *Map) Zone(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap()
	v6 := a.Is6()
	for _, bits := range m.lengths {
		if (bits >= 1000) != v6 {
			continue
		}
		p, err := a.Prefix(bits % 1000)
		if err != nil {
			continue
		}
		if z, ok := m.byLen[bits][p]; ok {
			return z
		}
	}
	if m.def != "" && a.IsGlobalUnicast() && !a.IsPrivate() {
		return m.def
	}
	return Unknown
}

// Host returns the named host at an address, if any.
func (m *Map) Host(a netip.Addr) (Host, bool) {
	h, ok := m.hosts[a.Unmap()]
	return h, ok
}

// Crosses reports whether a flow between two zones crosses a boundary: both known, and different.
func Crosses(src, dst string) bool {
	return src != "" && dst != "" && src != Unknown && dst != Unknown && src != dst
}
