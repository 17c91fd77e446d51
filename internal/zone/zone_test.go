package zone

import (
	"net/netip"
	"strings"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func testMap(t *testing.T) *Map {
	t.Helper()
	m, err := New(Options{
		Zones: map[string][]netip.Prefix{
			MyNumber:    prefixes("10.10.0.0/16", "2001:db8:10::/48"),
			LGWAN:       prefixes("10.20.0.0/16"),
			Internet:    prefixes("10.30.0.0/16", "10.20.99.0/24"), // a /24 carved out of lgwan's /16
			"lgwan-wan": prefixes("172.16.0.0/12"),
		},
		Hosts:   []Host{{Name: "gw-mail", Role: RoleSanitizer, Addresses: []netip.Addr{netip.MustParseAddr("10.20.0.10")}}},
		Default: "external",
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestZone(t *testing.T) {
	m := testMap(t)
	for _, tc := range []struct{ addr, want string }{
		{"10.10.3.4", MyNumber},
		{"10.20.1.1", LGWAN},
		{"10.20.99.7", Internet}, // longest prefix wins over lgwan's /16
		{"10.30.0.1", Internet},
		{"172.20.1.1", "lgwan-wan"},
		{"::ffff:10.10.3.4", MyNumber}, // IPv4-mapped IPv6 is the IPv4 address
		{"2001:db8:10::5", MyNumber},
		{"203.0.113.9", "external"},
		{"192.168.5.5", Unknown}, // private and not ours
	} {
		a := netip.MustParseAddr(tc.addr)
		got := m.Zone(a)
		if got != tc.want {
			t.Errorf("Zone(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	if got := m.Zone(netip.Addr{}); got != "" {
		t.Errorf("Zone(invalid) = %q, want empty", got)
	}
}

func TestHost(t *testing.T) {
	m := testMap(t)
	h, ok := m.Host(netip.MustParseAddr("10.20.0.10"))
	if !ok || h.Name != "gw-mail" || h.Role != RoleSanitizer {
		t.Fatalf("Host = %+v, %v", h, ok)
	}
	if _, ok := m.Host(netip.MustParseAddr("10.20.0.11")); ok {
		t.Fatal("unnamed address found as a host")
	}
}

func TestNewRefusesOverlapsBetweenZones(t *testing.T) {
	_, err := New(Options{Zones: map[string][]netip.Prefix{"a": prefixes("10.0.0.0/8"), "b": prefixes("10.0.0.0/8")}})
	if err == nil || !strings.Contains(err.Error(), "10.0.0.0/8") {
		t.Fatalf("err = %v, want one naming the range", err)
	}
}

func TestCrosses(t *testing.T) {
	for _, tc := range []struct {
		src, dst string
		want     bool
	}{{MyNumber, LGWAN, true}, {LGWAN, LGWAN, false}, {Unknown, LGWAN, false}, {"", Internet, false}, {Internet, "external", true}} {
		if got := Crosses(tc.src, tc.dst); got != tc.want {
			t.Errorf("Crosses(%q,%q) = %v", tc.src, tc.dst, got)
		}
	}
}

func BenchmarkZone(b *testing.B) {
	m, _ := New(Options{Zones: map[string][]netip.Prefix{MyNumber: prefixes("10.10.0.0/16"), LGWAN: prefixes("10.20.0.0/16", "10.21.0.0/24"), Internet: prefixes("10.30.0.0/16")}, Default: "external"})
	a := netip.MustParseAddr("10.30.4.5")
	for b.Loop() {
		_ = m.Zone(a)
	}
}
