package pipeline

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/event"
)

// TestTagMatchesTheZoneMap: the normaliser's cache of recent addresses gives what the zone map says, for
// addresses that collide in the cache, repeat, are named hosts, IPv6 or in no zone, in any order.
func TestTagMatchesTheZoneMap(t *testing.T) {
	zones, err := config.Default().ZoneMap()
	if err != nil {
		t.Fatal(err)
	}
	n := NewNormaliser(NormaliserOptions{Zones: zones})
	var addrs []netip.Addr
	for _, s := range []string{"10.30.0.10", "10.10.1.5", "10.20.1.5", "172.16.3.4", "203.0.113.77", "2001:db8::1", "::ffff:10.10.1.5"} {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	for i := range 2000 { // many share their last two bytes: they fight for the same cache slots
		addrs = append(addrs, netip.AddrFrom4([4]byte{10, byte([]int{10, 20, 30, 99}[i%4]), byte(i / 7), byte(i % 3)}))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		src, dst := addrs[r.IntN(len(addrs))], addrs[r.IntN(len(addrs))]
		e := event.Event{Source: event.Endpoint{IP: src}, Destination: event.Endpoint{IP: dst}}
		n.Tag(&e)
		for _, c := range []struct {
			name string
			ip   netip.Addr
			ep   event.Endpoint
		}{{"source", src, e.Source}, {"destination", dst, e.Destination}} {
			wantHost := ""
			if h, ok := zones.Host(c.ip); ok {
				wantHost = h.Name
			}
			if c.ep.Zone != zones.Zone(c.ip) || c.ep.Host != wantHost || c.ep.IP != c.ip.Unmap() {
				t.Fatalf("%s %v tagged %+v, want zone %q host %q", c.name, c.ip, c.ep, zones.Zone(c.ip), wantHost)
			}
		}
		if want := fmt.Sprint(e.Source.Zone != "" && e.Destination.Zone != "" && e.Source.Zone != e.Destination.Zone); fmt.Sprint(e.Meta.CrossZone) != want && e.Source.Zone != "unknown" && e.Destination.Zone != "unknown" {
			t.Fatalf("%v → %v: cross_zone %v", src, dst, e.Meta.CrossZone)
		}
	}
}
