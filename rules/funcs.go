package rules

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"golang.org/x/net/publicsuffix"

	"github.com/zonewatch/zonewatch/internal/zone"
)

// Calendars answers off-hours questions for named calendars (office, shift platoons, always). It is
// satisfied by an adapter over internal/calendar's Set; see CalendarSet.
type Calendars interface {
	// OffHours reports whether t is outside the duty hours of the named calendar. An unknown name is an
	// error.
	OffHours(name string, t time.Time) (bool, error)
}

// Function documents one function available to conditions.
type Function struct {
	Name      string
	Signature string
	Doc       string
}

// Functions lists the functions rule authors may call, besides expr's builtins (len, lower, upper,
// contains, startsWith, endsWith, matches, any, all …).
var functionDocs = []Function{
	{"ip", `ip("10.1.2.3") → address`, "an IP address constant; comparisons such as source.ip == \"10.1.2.3\" convert the string by themselves"},
	{"inCIDR", `inCIDR(addr, "10.0.0.0/8", …) → bool`, "whether addr (an address or a string) lies in any of the ranges; ranges are parsed once, at load"},
	{"in_list", `in_list(value, "list") → bool`, "membership in a named list: ip lists match addresses and ranges, domain lists match the domain and its subdomains, string and map lists match exactly"},
	{"lookup", `lookup("list", key) → string`, "the value of key in a map list, \"\" when absent (e.g. the calendar group of a user)"},
	{"zoneOf", `zoneOf(addr) → string`, "the zone of an address by the zone map (\"\" without one)"},
	{"hostRole", `hostRole(name) → string`, "the role of a named host (sanitizer, proxy …) from the zone map's hosts or the host_roles list"},
	{"domainOf", `domainOf(url) → string`, "the host name of a URL or host:port, lower case"},
	{"registeredDomain", `registeredDomain(host_or_url) → string`, "the registered domain (eTLD+1) by the public suffix list: www.city.example.lg.jp → city.example.lg.jp"},
	{"subdomain", `subdomain(host_or_url) → string`, "the labels before the registered domain: a1b2.tunnel.example.com → a1b2.tunnel"},
	{"regex", `regex(s, "pattern") → bool`, "RE2 match; a constant pattern is compiled once, at load"},
	{"entropy", `entropy(s) → float`, "Shannon entropy of s in bits per character"},
	{"offHours", `offHours("calendar", timestamp) → bool`, "whether the moment is outside the named calendar's duty hours; \"\" (no calendar) is never off-hours"},
	{"secondsBetween", `secondsBetween(t1, t2) → float`, "|t1 − t2| in seconds, 0 when either is unset (clock drift: secondsBetween(event.ingested, timestamp))"},
	{"isPrivate", `isPrivate(addr) → bool`, "RFC 1918 / RFC 4193 address"},
}

// Functions returns the documentation of the functions available to conditions.
func Functions() []Function { return append([]Function(nil), functionDocs...) }

// funcs holds what the functions need: lists, calendars, the zone map, and constants parsed at load.
// It is written while a RuleSet loads and only read afterwards, so evaluation needs no lock.
type funcs struct {
	lists    map[string]*List
	cals     Calendars
	zones    *zone.Map
	roles    map[string]string
	prefixes map[string]netip.Prefix
	regexps  map[string]*regexp.Regexp
}

func newFuncs(lists map[string]*List, cals Calendars, zones *zone.Map, hosts []zone.Host) *funcs {
	f := &funcs{lists: lists, cals: cals, zones: zones, roles: map[string]string{},
		prefixes: map[string]netip.Prefix{}, regexps: map[string]*regexp.Regexp{}}
	for _, h := range hosts {
		f.roles[h.Name] = h.Role
	}
	return f
}

// clone copies the tables that compiling writes to.
func (f *funcs) clone() *funcs {
	g := *f
	g.prefixes = maps.Clone(f.prefixes)
	g.regexps = maps.Clone(f.regexps)
	return &g
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return p, fmt.Errorf("%q is not a CIDR range: write it as 10.0.0.0/8 or 2001:db8::/32", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR range: write 10.1.2.3 or 10.0.0.0/8", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

func (f *funcs) prefix(s string) (netip.Prefix, error) {
	if p, ok := f.prefixes[s]; ok {
		return p, nil
	}
	return parsePrefix(s)
}

func (f *funcs) regexp(s string) (*regexp.Regexp, error) {
	if re, ok := f.regexps[s]; ok {
		return re, nil
	}
	return regexp.Compile(s) // a pattern computed per event: slow path, compiled each time
}

func asAddr(v any) (netip.Addr, bool) {
	switch x := v.(type) {
	case netip.Addr:
		return x.Unmap(), x.IsValid()
	case string:
		a, err := netip.ParseAddr(x)
		return a.Unmap(), err == nil
	}
	return netip.Addr{}, false
}

func hostOf(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		}
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if h, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(s, "]") && strings.Count(s, ":") == 1 {
		s = h
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

func registeredDomain(s string) string {
	h := hostOf(s)
	if h == "" {
		return ""
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return h
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(h)
	if err != nil {
		return h
	}
	return d
}

func subdomain(s string) string {
	h := hostOf(s)
	d := registeredDomain(h)
	if d == h {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(h, d), ".")
}

func secondsBetween(a, b time.Time) float64 {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return math.Abs(a.Sub(b).Seconds())
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// options returns the expr options declaring the functions with their types, so that a call with wrong
// arguments is refused at load time.
func (f *funcs) options() []expr.Option {
	return []expr.Option{
		expr.Function("ip", func(p ...any) (any, error) {
			a, err := netip.ParseAddr(p[0].(string))
			if err != nil {
				return netip.Addr{}, fmt.Errorf("ip(%q): not an IP address", p[0])
			}
			return a.Unmap(), nil
		}, new(func(string) netip.Addr)),
		expr.Function("addrEq", func(p ...any) (any, error) {
			return p[0].(netip.Addr).Unmap() == p[1].(netip.Addr).Unmap(), nil
		}, new(func(netip.Addr, netip.Addr) bool)),
		expr.Function("addrNe", func(p ...any) (any, error) {
			return p[0].(netip.Addr).Unmap() != p[1].(netip.Addr).Unmap(), nil
		}, new(func(netip.Addr, netip.Addr) bool)),
		expr.Operator("==", "addrEq"),
		expr.Operator("!=", "addrNe"),
		expr.Function("inCIDR", func(p ...any) (any, error) {
			a, ok := asAddr(p[0])
			if !ok {
				return false, nil
			}
			for _, c := range p[1:] {
				pf, err := f.prefix(c.(string))
				if err != nil {
					return false, err
				}
				if pf.Contains(a) {
					return true, nil
				}
			}
			return false, nil
		}, new(func(netip.Addr, ...string) bool), new(func(string, ...string) bool)),
		expr.Function("in_list", func(p ...any) (any, error) {
			l, ok := f.lists[p[1].(string)]
			if !ok {
				return false, fmt.Errorf("in_list: no list named %q", p[1])
			}
			return l.Contains(p[0]), nil
		}, new(func(netip.Addr, string) bool), new(func(string, string) bool)),
		expr.Function("lookup", func(p ...any) (any, error) {
			l, ok := f.lists[p[0].(string)]
			if !ok {
				return "", fmt.Errorf("lookup: no list named %q", p[0])
			}
			return l.Lookup(p[1].(string)), nil
		}, new(func(string, string) string)),
		expr.Function("zoneOf", func(p ...any) (any, error) {
			if f.zones == nil {
				return "", nil
			}
			return f.zones.Zone(p[0].(netip.Addr)), nil
		}, new(func(netip.Addr) string)),
		expr.Function("hostRole", func(p ...any) (any, error) {
			name := p[0].(string)
			if name == "" {
				return "", nil
			}
			if r, ok := f.roles[name]; ok {
				return r, nil
			}
			if l, ok := f.lists["host_roles"]; ok {
				return l.Lookup(name), nil
			}
			return "", nil
		}, new(func(string) string)),
		expr.Function("domainOf", func(p ...any) (any, error) { return hostOf(p[0].(string)), nil }, new(func(string) string)),
		expr.Function("registeredDomain", func(p ...any) (any, error) { return registeredDomain(p[0].(string)), nil }, new(func(string) string)),
		expr.Function("subdomain", func(p ...any) (any, error) { return subdomain(p[0].(string)), nil }, new(func(string) string)),
		expr.Function("regex", func(p ...any) (any, error) {
			re, err := f.regexp(p[1].(string))
			if err != nil {
				return false, err
			}
			return re.MatchString(p[0].(string)), nil
		}, new(func(string, string) bool)),
		expr.Function("entropy", func(p ...any) (any, error) { return entropy(p[0].(string)), nil }, new(func(string) float64)),
		expr.Function("offHours", func(p ...any) (any, error) {
			name := p[0].(string)
			if name == "" {
				return false, nil
			}
			if f.cals == nil {
				return false, fmt.Errorf("offHours(%q): no calendars are configured", name)
			}
			return f.cals.OffHours(name, p[1].(time.Time))
		}, new(func(string, time.Time) bool)),
		expr.Function("secondsBetween", func(p ...any) (any, error) {
			return secondsBetween(p[0].(time.Time), p[1].(time.Time)), nil
		}, new(func(time.Time, time.Time) float64)),
		expr.Function("isPrivate", func(p ...any) (any, error) {
			a := p[0].(netip.Addr)
			return a.IsValid() && a.Unmap().IsPrivate(), nil
		}, new(func(netip.Addr) bool)),
	}
}
