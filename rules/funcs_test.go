package rules

import (
	"fmt"
	"math"
	"testing"
)

func TestDomainFunctions(t *testing.T) {
	tests := []struct {
		in, host, registered, sub string
	}{
		{"https://www.City.Example.lg.jp/path?q=1", "www.city.example.lg.jp", "example.lg.jp", "www.city"},
		{"www.nhk.or.jp", "www.nhk.or.jp", "nhk.or.jp", "www"},
		{"cdn.example.co.uk:8443", "cdn.example.co.uk", "example.co.uk", "cdn"},
		{"example.com.", "example.com", "example.com", ""},
		{"http://203.0.113.9:8080/x", "203.0.113.9", "203.0.113.9", ""},
		{"http://[2001:db8::1]:443/", "2001:db8::1", "2001:db8::1", ""},
		{"", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := hostOf(tc.in); got != tc.host {
				t.Errorf("domainOf = %q, want %q", got, tc.host)
			}
			if got := registeredDomain(tc.in); got != tc.registered {
				t.Errorf("registeredDomain = %q, want %q", got, tc.registered)
			}
			if got := subdomain(tc.in); got != tc.sub {
				t.Errorf("subdomain = %q, want %q", got, tc.sub)
			}
		})
	}
}

func TestEntropy(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"", 0},
		{"aaaa", 0},
		{"abab", 1},
		{"abcd", 2},
		{"0123456789abcdef", 4},
	}
	for _, tc := range tests {
		if got := entropy(tc.in); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("entropy(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"10.0.0.0/33", "error"},
		{"example.com", "error"},
	}
	for _, tc := range tests {
		p, err := parsePrefix(tc.in)
		got := p.String()
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("parsePrefix(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestListKinds(t *testing.T) {
	tests := []struct {
		kind  string
		items []string
		value any
		want  bool
	}{
		{ListIP, []string{"10.0.0.0/8"}, addr("10.9.9.9"), true},
		{ListIP, []string{"10.0.0.0/8"}, "10.9.9.9", true},
		{ListIP, []string{"192.0.2.7"}, addr("::ffff:192.0.2.7"), true},
		{ListIP, []string{"10.0.0.0/8"}, addr("11.0.0.1"), false},
		{ListIP, []string{"10.0.0.0/8"}, "not an address", false},
		{ListDomain, []string{"example.com"}, "a.b.EXAMPLE.com", true},
		{ListDomain, []string{"*.example.com"}, "example.com", true},
		{ListDomain, []string{"example.com"}, "badexample.com", false},
		{ListDomain, []string{"top"}, "login.example.top", true},
		{ListString, []string{"root"}, "root", true},
		{ListString, []string{"root"}, "Root", false},
		{ListMap, []string{"sato = office"}, "sato", true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %v %v", tc.kind, tc.items, tc.value), func(t *testing.T) {
			l := newList("l", tc.kind)
			for _, it := range tc.items {
				if err := l.add(it); err != nil {
					t.Fatal(err)
				}
			}
			if got := l.Contains(tc.value); got != tc.want {
				t.Errorf("Contains = %v, want %v", got, tc.want)
			}
		})
	}
}
