package rules

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// partitionTraffic is a mix that raises alerts of every kind: port scans and SSH brute force from many
// sources (threshold rules), cross-zone attempts (match rules), bursts grouped by no field or by a
// field finer than the suppression's, and heartbeats of observers that later fall silent.
func partitionTraffic() []*event.Event {
	var out []*event.Event
	n := 0
	add := func(at time.Duration, mod func(e *event.Event)) {
		n++
		out = append(out, ev(fmt.Sprintf("ev-%05d", n), at, mod))
	}
	for s := range 12 { // port scans: 25 ports from each of 12 sources, interleaved
		for p := range 25 {
			add(time.Duration(p)*time.Second+time.Duration(s)*time.Millisecond, func(e *event.Event) {
				e.Source.IP = netip.AddrFrom4([4]byte{10, 20, 4, byte(s + 1)})
				e.Destination.IP = addr("10.20.0.1")
				e.Destination.Port = uint16(1000 + p)
				e.Meta.Category = "network"
				e.Observer.Hostname = fmt.Sprintf("fw-%d", s%4)
			})
		}
	}
	for s := range 8 { // SSH brute force: 12 failures from each of 8 sources
		for i := range 12 {
			add(10*time.Minute+time.Duration(i)*5*time.Second+time.Duration(s)*time.Millisecond, func(e *event.Event) {
				e.Source.IP = netip.AddrFrom4([4]byte{198, 51, 100, byte(s + 1)})
				e.User.Name = "root"
				e.Meta.Module, e.Meta.Action, e.Meta.Outcome = "sshd", "login-failed", "failure"
				e.Observer.Hostname = fmt.Sprintf("srv-%d", s)
			})
		}
	}
	for i := range 40 { // attempts out of the mynumber zone, and bursts for the custom rules below
		add(20*time.Minute+time.Duration(i)*time.Second, func(e *event.Event) {
			e.Source.IP = netip.AddrFrom4([4]byte{10, 10, 1, byte(i%5 + 1)})
			e.Destination.IP = addr("10.30.0.80")
			e.Source.Zone, e.Destination.Zone = "mynumber", "internet"
			e.Destination.Port = 443
			e.Meta.Category, e.Meta.Action, e.Meta.Outcome = "network", "deny", "failure"
			e.User.Name = fmt.Sprintf("u%d", i%7)
			e.Observer.Hostname = "fw-mynumber"
		})
	}
	return out
}

const partitionRules = `
lists:
  - {name: expected, items: [fw-0, fw-1, fw-2, fw-3, fw-never]}
rules:
  - id: BURST-ALL
    ` + title + `    condition: event.action == "deny"
    threshold: {at_least: 10, within: 1m}
  - id: USER-BY-HOST
    ` + title + `    condition: event.action == "deny"
    threshold: {at_least: 3, by: [user.name, source.ip], within: 1m}
    suppress: {for: 10m, by: [user.name]}
  - id: EVERY-DENY
    ` + title + `    condition: event.action == "deny"
  - id: SILENT
    kind: absence
    ` + title + `    condition: observer.hostname != ""
    absence: {by: observer.hostname, expected_every: 10m, sources: expected}
`

// TestPartitionedEnginesRaiseTheSameAlerts: engines that split the group keys between them raise, all
// together, exactly the alerts one engine raises (none twice, none missed), events and ticks alike.
func TestPartitionedEnginesRaiseTheSameAlerts(t *testing.T) {
	pack, err := Load(context.Background(), "default", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sets := []struct {
		name string
		rs   *RuleSet
	}{{"default pack", pack}, {"custom", mustLoad(t, map[string]string{"r.yaml": partitionRules})}}
	traffic := partitionTraffic()
	for _, set := range sets {
		want := evalAll(t, set.rs, Partition{}, traffic)
		if len(want) < 10 {
			t.Fatalf("%s: one engine raised %d alerts; the traffic should raise more", set.name, len(want))
		}
		for _, count := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/%d processes", set.name, count), func(t *testing.T) {
				var got []string
				for i := range count {
					part := evalAll(t, set.rs, Partition{Index: i, Count: count}, traffic)
					if len(part) == 0 || len(part) == len(want) {
						t.Errorf("partition %d of %d raised %d of %d alerts: the keys are not split", i, count, len(part), len(want))
					}
					got = append(got, part...)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("partitions together raised %d alerts, one engine %d;\nonly partitioned: %v\nonly one engine: %v", len(got), len(want), missing(want, got), missing(got, want))
				}
			})
		}
	}
}

// evalAll evaluates the traffic and ticks past every absence, and returns the alerts as sorted
// "rule group first-seen" lines.
func evalAll(t *testing.T, rs *RuleSet, p Partition, traffic []*event.Event) []string {
	t.Helper()
	en, err := NewEngine(Options{Rules: rs, Now: func() time.Time { return t0 }, Partition: p})
	if err != nil {
		t.Fatal(err)
	}
	var alerts []Alert
	for _, e := range traffic {
		alerts = append(alerts, en.Eval(e)...)
	}
	alerts = append(alerts, en.Tick(t0.Add(3*time.Hour))...)
	var out []string
	for _, a := range alerts {
		out = append(out, fmt.Sprintf("%s %s %s %s", a.RuleID, a.GroupKey, a.FirstSeen.Format(time.RFC3339Nano), a.ID))
	}
	slices.Sort(out)
	return out
}

// missing lists what of b (sorted) is not in a (sorted), duplicates counted.
func missing(a, b []string) []string {
	var out []string
	i := 0
	for _, s := range b {
		for i < len(a) && a[i] < s {
			i++
		}
		if i < len(a) && a[i] == s {
			i++
			continue
		}
		out = append(out, s)
	}
	return out
}

func TestPartitionValidate(t *testing.T) {
	for _, tc := range []struct {
		p  Partition
		ok bool
	}{
		{Partition{}, true}, {Partition{0, 1}, true}, {Partition{1, 2}, true},
		{Partition{2, 2}, false}, {Partition{-1, 2}, false}, {Partition{1, 0}, false}, {Partition{0, -1}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.p, err)
		}
	}
	if _, err := NewEngine(Options{Rules: mustLoad(t, map[string]string{"r.yaml": partitionRules}), Partition: Partition{Index: 3, Count: 2}}); err == nil {
		t.Error("NewEngine accepted partition 3 of 2")
	}
}
