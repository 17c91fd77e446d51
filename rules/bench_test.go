package rules

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// benchEvents is a traffic mix like the union's: firewall flows, proxy requests, SSH and sign-ins,
// sanitisation gateways and some unparsed lines, from a few hundred hosts in the three zones.
func benchEvents(n int) []*event.Event {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []struct {
		name string
		net  [2]byte
	}{{"mynumber", [2]byte{10, 10}}, {"lgwan", [2]byte{10, 20}}, {"internet", [2]byte{10, 30}}}
	host := func(z int) netip.Addr {
		return netip.AddrFrom4([4]byte{zones[z].net[0], zones[z].net[1], byte(r.IntN(4)), byte(1 + r.IntN(200))})
	}
	users := []string{"sato.office", "suzuki.office", "tanaka.p1", "takahashi.p2", "ito.p3", "vendor.acme", "unknown.user"}
	cats := []string{"news", "business", "search", "government", "malware", "phishing", "social"}
	domains := []string{"www.nhk.or.jp", "www.fdma.go.jp", "www.city.example.lg.jp", "login.example.top", "cdn.example.com",
		"mzxw6ytboi4tqnbsgq3dkmrxgm2tkmbvgyyq.x7k2p9qlr4.tunnel.example.com"}
	var out []*event.Event
	for i := range n {
		e := &event.Event{ID: fmt.Sprintf("b%06d", i), Observer: event.Observer{Hostname: fmt.Sprintf("obs-%d", r.IntN(8))}}
		e.Log.ParseStatus = event.ParseOK
		switch k := r.IntN(100); {
		case k < 45: // firewall flow: mostly inside a zone, out through the proxy, or via a gateway;
			// one in a hundred breaks the policy
			sz := r.IntN(3)
			e.Meta.Module, e.Meta.Category = "fortigate", "network"
			e.Meta.Action = []string{"accept", "accept", "accept", "deny"}[r.IntN(4)]
			e.Source.IP, e.Source.Zone = host(sz), zones[sz].name
			e.Destination.IP, e.Destination.Zone = host(sz), zones[sz].name
			switch f := r.IntN(100); {
			case f < 20:
				e.Source.IP, e.Source.Zone, e.Source.Host = netip.MustParseAddr("10.30.0.5"), "internet", "proxy-cloud"
				e.Destination.IP, e.Destination.Zone = netip.AddrFrom4([4]byte{203, 0, 113, byte(r.IntN(250))}), "external"
			case f < 28:
				e.Destination.IP, e.Destination.Zone, e.Destination.Host = netip.MustParseAddr("10.30.0.12"), "internet", "gw-screen"
			case f < 29:
				dz := (sz + 1) % 3
				e.Destination.IP, e.Destination.Zone = host(dz), zones[dz].name
			}
			e.Destination.Port = []uint16{443, 80, 53, 445, 22, 25, 8080}[r.IntN(7)]
			e.Source.Bytes = uint64(r.IntN(1 << 20))
		case k < 70: // proxy
			e.Meta.Module = []string{"squid", "ifilter", "intersafe"}[r.IntN(3)]
			e.Meta.Category, e.Meta.Action = "web", []string{"allow", "allow", "deny"}[r.IntN(3)]
			e.Source.IP, e.Source.Zone = host(2), "internet"
			e.Source.Host = "proxy-cloud"
			e.Destination.Zone = "external"
			// Benign domains and categories mostly; one request in a hundred is to a bad one.
			e.URL.Domain = domains[r.IntN(3)]
			e.URL.Category = cats[r.IntN(4)]
			if r.IntN(100) == 0 {
				e.URL.Domain, e.URL.Category = domains[3+r.IntN(3)], cats[4+r.IntN(3)]
			}
			e.User.Name = users[r.IntN(len(users))]
		case k < 85: // sshd
			e.Meta.Module, e.Meta.Category = "sshd", "authentication"
			e.Meta.Action = []string{"login-failed", "logged-in", "invalid-user", "session-opened"}[r.IntN(4)]
			e.Meta.Outcome = map[string]string{"login-failed": "failure", "invalid-user": "failure"}[e.Meta.Action]
			if e.Meta.Outcome == "" {
				e.Meta.Outcome = "success"
			}
			e.Source.IP, e.Source.Zone = host(1), "lgwan"
			e.User.Name = users[r.IntN(len(users))]
		case k < 95: // sanitisation gateway
			e.Meta.Module, e.Meta.Category, e.Meta.Action = "gateway", "sanitization", "convert"
			e.Source.IP, e.Source.Zone, e.Source.Host = netip.MustParseAddr("10.30.0.10"), "internet", "gw-mail"
			e.Destination.IP, e.Destination.Zone = host(1), "lgwan"
		default: // unparsed syslog
			e.Meta.Module = "syslog"
			e.Log.ParseStatus = event.ParseFailed
		}
		out = append(out, e)
	}
	return out
}

// variantRules writes 200 rules: the default pack (17 rules, with its lists, macros and calendars)
// plus 183 variants of its indexed rules with other constants — zones, ports, thresholds, categories,
// calendars, sizes — as a larger deployment would have.
func variantRules(tb testing.TB) string {
	dir := tb.TempDir()
	entries, _ := os.ReadDir("default")
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("default", e.Name()))
		_ = os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	_ = os.CopyFS(filepath.Join(dir, "lists"), os.DirFS("default/lists"))
	zones := []string{"mynumber", "lgwan", "internet", "lgwan-wan", "dmz", "mgmt", "backup", "guest", "ot", "lab"}
	// Segments that, like mynumber, talk to no other zone: the variants of the mynumber rules.
	isolated := []string{"mynumber", "mgmt", "backup", "ot", "lab", "cctv", "dispatch", "medical"}
	cats := []string{"malware", "phishing", "botnet", "c2", "spyware", "ransomware", "gambling", "adult", "p2p", "proxy-avoidance", "hacking", "dynamic-dns"}
	cals := []string{"office", "platoon-1", "platoon-2", "platoon-3", "contractor-acme"}
	actions := []string{"login-failed", "invalid-user", "pam-auth-failure", "max-attempts-exceeded"}
	templates := []func(i int) string{
		func(i int) string {
			z := isolated[i%len(isolated)]
			return fmt.Sprintf("condition: source.zone == %q and network_flow and destination.zone != %q and destination.port != %d\n    suppress: {for: %dm, by: [source.ip, destination.ip]}", z, z, i, 5+i%10)
		},
		func(i int) string {
			z := isolated[i%len(isolated)]
			return fmt.Sprintf("condition: destination.zone == %q and network_flow and source.zone != %q and not via_sanitizer and not inCIDR(source.ip, \"10.%d.0.0/16\")", z, z, i%250)
		},
		func(i int) string {
			a, b := zones[i%len(zones)], zones[(i+1)%len(zones)]
			return fmt.Sprintf("condition: destination.zone in [%q, %q] and source.zone in [%q, %q] and source.zone != destination.zone and not via_sanitizer", a, b, a, b)
		},
		func(i int) string {
			return fmt.Sprintf("condition: source.zone == %q and destination.zone == \"external\" and not via_proxy and destination.port == %d", zones[i%len(zones)], 1000+i)
		},
		func(i int) string {
			c := cals[i%len(cals)]
			return fmt.Sprintf("condition: successful_login and lookup(\"user_calendars\", user.name) == %q and offHours(%q, timestamp) and source.zone == %q", c, c, zones[i%len(zones)])
		},
		func(i int) string {
			return fmt.Sprintf("condition: event.category == \"network\" and source.zone == %q and destination.port > 0\n    threshold: {distinct: destination.port, more_than: %d, by: [source.ip], within: %ds}", zones[i%len(zones)], 10+i%30, 30+i)
		},
		func(i int) string {
			return fmt.Sprintf("condition: event.module == \"sshd\" and event.action == %q and source.zone == %q\n    threshold: {at_least: %d, by: [source.ip], within: %dm}", actions[i%len(actions)], zones[i%len(zones)], 5+i%20, 1+i%10)
		},
		func(i int) string {
			return fmt.Sprintf("condition: event.category == \"web\" and url.category == %q and event.module == %q", cats[i%len(cats)], []string{"squid", "ifilter", "intersafe", "fortigate"}[i%4])
		},
		func(i int) string {
			return fmt.Sprintf("condition: destination.zone == \"external\" and source.zone == %q and source.bytes > %d * 1024 * 1024", zones[i%len(zones)], 20+i)
		},
		func(i int) string {
			return fmt.Sprintf("condition: event.category == \"web\" and event.action == \"allow\" and in_list(url.domain, \"rare_tlds\") and source.ip != \"10.30.%d.%d\"", i%4, i%200)
		},
	}
	// The variants make up the difference to 200 with the default pack, whatever its size today.
	pack, err := Load(context.Background(), "default", LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := range 200 - len(pack.Rules) {
		fmt.Fprintf(&b, "  - id: ZW-VAR-%03d\n    title: {ja: 変種 %d, en: Variant %d}\n    severity: %s\n    %s\n",
			i, i, i, severities[i%len(severities)], templates[i%len(templates)](i/len(templates)+i))
		if !strings.Contains(b.String()[strings.LastIndex(b.String(), "  - id:"):], "suppress:") {
			fmt.Fprintf(&b, "    suppress: {for: %dm, by: [source.ip]}\n", 10+i%20)
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "variants.yaml"), []byte(b.String()), 0o644)
	return dir
}

func BenchmarkEngine(b *testing.B) {
	trivial := writeRules(b, map[string]string{"r.yaml": `
rules:
  - id: TRIVIAL
    title: {ja: 失敗, en: SSH failure}
    severity: low
    condition: event.module == "sshd" and event.outcome == "failure"
`})
	variants := variantRules(b)
	cases := []struct {
		name, dir string
		rules     int
		tweak     func(rs *RuleSet)
	}{
		{"trivial", trivial, 1, nil},
		{"default_pack", "default", 19, nil},
		{"200_rules", variants, 200, nil},
		// What the index and the Go predicates are worth: the same 200 rules without each.
		{"200_rules_unindexed", variants, 200, func(rs *RuleSet) {
			rs.index = &index{catchAll: rs.index.all()}
		}},
		{"200_rules_vm_only", variants, 200, func(rs *RuleSet) {
			for _, r := range rs.Rules {
				r.cond.natives, r.cond.nativeOnly = nil, false
			}
		}},
	}
	events := benchEvents(1 << 14)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rs, err := Load(context.Background(), c.dir, LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if len(rs.Rules) != c.rules {
				b.Fatalf("%d rules, want %d", len(rs.Rules), c.rules)
			}
			if c.tweak != nil {
				c.tweak(rs)
			}
			en, _ := NewEngine(Options{Rules: rs})
			base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
			alerts := 0
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				e := events[i&(len(events)-1)]
				e.Timestamp = base.Add(time.Duration(i) * time.Millisecond)
				alerts += len(en.Eval(e))
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
			}
			st := en.Stats()
			b.ReportMetric(float64(st.Evaluated)/float64(st.Events), "conds/event")
			b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
		})
	}
}
