package rules

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/zone"
)

func TestConditions(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
lists:
  - {name: admins, kind: string, items: [root, admin]}
  - {name: nets, kind: ip, items: [10.1.0.0/16, 192.0.2.7]}
  - {name: bad, kind: domain, items: [evil.example]}
  - {name: groups, kind: map, map: {sato: office}}
rules:
  - id: IP-EQ
    ` + title + `    condition: source.ip == "10.1.2.3"
  - id: IP-NE
    ` + title + `    condition: source.ip != "10.1.2.3" and source.ip in ["10.9.9.9", "10.9.9.8"]
  - id: IP-FN
    ` + title + `    condition: destination.ip == ip("192.0.2.7")
  - id: CIDR
    ` + title + `    condition: inCIDR(source.ip, "172.16.0.0/12", "192.168.0.0/16")
  - id: LIST-IP
    ` + title + `    condition: in_list(destination.ip, "nets") and not in_list(source.ip, "nets")
  - id: LIST-STR
    ` + title + `    condition: in_list(user.name, "admins")
  - id: LIST-DOMAIN
    ` + title + `    condition: in_list(url.domain, "bad")
  - id: LOOKUP
    ` + title + `    condition: lookup("groups", user.name) == "office"
  - id: REGDOMAIN
    ` + title + `    condition: registeredDomain(url.original) == "example.lg.jp"
  - id: REGEX
    ` + title + `    condition: regex(http.user_agent, "(?i)sqlmap|nikto")
  - id: ENTROPY
    ` + title + `    condition: entropy(message) > 4
  - id: LABEL
    ` + title + `    condition: labels["policyid"] == "7"
  - id: IP-REV
    ` + title + `    condition: '"10.7.7.7" == source.ip and destination.ip not in ["10.7.7.8"]'
  - id: IP-SAME
    ` + title + `    condition: source.ip == destination.ip and source.ip != nil
`})
	tests := []struct {
		name string
		ev   func(e *event.Event)
		want []string
	}{
		{"ip equality", func(e *event.Event) { e.Source.IP = addr("10.1.2.3") }, []string{"IP-EQ"}},
		{"ip in array", func(e *event.Event) { e.Source.IP = addr("10.9.9.8") }, []string{"IP-NE"}},
		{"ip() constant", func(e *event.Event) { e.Source.IP, e.Destination.IP = addr("10.2.1.1"), addr("192.0.2.7") }, []string{"IP-FN", "LIST-IP"}},
		{"cidr", func(e *event.Event) { e.Source.IP = addr("172.20.1.1") }, []string{"CIDR"}},
		{"ipv4-mapped address in cidr", func(e *event.Event) { e.Source.IP = addr("::ffff:192.168.3.3") }, []string{"CIDR"}},
		{"ip list both sides", func(e *event.Event) { e.Source.IP, e.Destination.IP = addr("10.1.9.9"), addr("10.1.2.2") }, nil},
		{"string list", func(e *event.Event) { e.User.Name = "root" }, []string{"LIST-STR"}},
		{"domain list subdomain", func(e *event.Event) { e.URL.Domain = "a.b.Evil.Example" }, []string{"LIST-DOMAIN"}},
		{"domain list other domain", func(e *event.Event) { e.URL.Domain = "notevil.example" }, nil},
		{"map lookup", func(e *event.Event) { e.User.Name = "sato" }, []string{"LOOKUP"}},
		{"registered domain look-alike", func(e *event.Event) { e.URL.Original = "https://www.example.lg.jp.attacker.com/a?b" }, nil},
		{"registered domain lg.jp", func(e *event.Event) { e.URL.Original = "https://www.example.lg.jp:8443/x" }, []string{"REGDOMAIN"}},
		{"regex", func(e *event.Event) { e.HTTP.UserAgent = "SQLMap/1.7" }, []string{"REGEX"}},
		{"entropy", func(e *event.Event) { e.Message = "q8Zr1xLp0VbT7mNc3YwK" }, []string{"ENTROPY"}},
		{"labels", func(e *event.Event) { e.Labels = map[string]string{"policyid": "7"} }, []string{"LABEL"}},
		{"reversed ip comparison, not in", func(e *event.Event) { e.Source.IP, e.Destination.IP = addr("10.7.7.7"), addr("10.7.7.9") }, []string{"IP-REV"}},
		{"reversed ip comparison, excluded", func(e *event.Event) { e.Source.IP, e.Destination.IP = addr("10.7.7.7"), addr("10.7.7.8") }, nil},
		{"two address fields", func(e *event.Event) { e.Source.IP, e.Destination.IP = addr("10.6.6.6"), addr("::ffff:10.6.6.6") }, []string{"IP-SAME"}},
		{"nothing", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			en := mustEngine(t, rs)
			var got []string
			for _, a := range en.Eval(ev("e1", 0, tc.ev)) {
				got = append(got, a.RuleID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("alerts %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIndex(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
macros:
  - {name: sshd, condition: event.module == "sshd"}
rules:
  - id: A
    ` + title + `    condition: event.action == "deny" and source.zone == "lgwan"
  - id: B
    ` + title + `    condition: sshd and user.name == "root"
  - id: C
    ` + title + `    condition: destination.zone in ["lgwan", "internet"]
  - id: D
    ` + title + `    condition: event.module == "sshd" or event.module == "squid"
  - id: E
    ` + title + `    condition: not (event.module == "sshd")
  - id: F
    ` + title + `    enabled: false
    condition: event.module == "sshd"
`})
	ix := rs.index
	check := func(field int, val string, want ...string) {
		t.Helper()
		var got []string
		for _, r := range ix.buckets[field][val] {
			got = append(got, r.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s=%s: %v, want %v", indexFields[field], val, got, want)
		}
	}
	check(idxAction, "deny", "A")
	check(idxSrcZone, "lgwan") // A is filed under the action only
	check(idxModule, "sshd", "B")
	check(idxDstZone, "lgwan", "C")
	check(idxDstZone, "internet", "C")
	var catch []string
	for _, r := range ix.catchAll {
		catch = append(catch, r.ID)
	}
	if fmt.Sprint(catch) != "[D E]" {
		t.Errorf("catch-all %v, want [D E]", catch)
	}
	en := mustEngine(t, rs)
	en.Eval(ev("1", 0, func(e *event.Event) { e.Meta.Module = "fortigate" }))
	if st := en.Stats(); st.Evaluated != 2 {
		t.Errorf("evaluated %d conditions for a fortigate event, want 2 (the catch-all)", st.Evaluated)
	}
}

func TestThresholdWindows(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
rules:
  - id: SLIDE
    ` + title + `    condition: event.module == "sshd"
    threshold: {at_least: 3, by: [source.ip], within: 1m}
  - id: TUMBLE
    ` + title + `    condition: event.module == "fw"
    threshold: {at_least: 3, by: [source.ip], within: 1m, window: tumbling}
  - id: DISTINCT
    ` + title + `    condition: event.module == "scan"
    threshold: {more_than: 2, distinct: destination.port, by: [source.ip], within: 1m}
`})
	type step struct {
		at   time.Duration
		mod  string
		src  string
		port uint16
		want int
	}
	tests := []struct {
		name  string
		steps []step
		late  uint64
	}{
		{"sliding: three in a minute", []step{{0, "sshd", "a", 0, 0}, {20 * time.Second, "sshd", "a", 0, 0}, {40 * time.Second, "sshd", "a", 0, 1}}, 0},
		{"sliding: oldest expires", []step{{0, "sshd", "a", 0, 0}, {40 * time.Second, "sshd", "a", 0, 0}, {70 * time.Second, "sshd", "a", 0, 0}, {90 * time.Second, "sshd", "a", 0, 1}}, 0},
		{"sliding: groups apart", []step{{0, "sshd", "a", 0, 0}, {1 * time.Second, "sshd", "b", 0, 0}, {2 * time.Second, "sshd", "a", 0, 0}, {3 * time.Second, "sshd", "b", 0, 0}}, 0},
		{"sliding: re-arms after alerting", []step{{0, "sshd", "a", 0, 0}, {1 * time.Second, "sshd", "a", 0, 0}, {2 * time.Second, "sshd", "a", 0, 1}, {3 * time.Second, "sshd", "a", 0, 0}, {4 * time.Second, "sshd", "a", 0, 0}, {5 * time.Second, "sshd", "a", 0, 1}}, 0},
		{"sliding: late event ignored", []step{{5 * time.Minute, "sshd", "a", 0, 0}, {0, "sshd", "a", 0, 0}}, 1},
		{"sliding: out of order within the window counts", []step{{30 * time.Second, "sshd", "a", 0, 0}, {0, "sshd", "a", 0, 0}, {50 * time.Second, "sshd", "a", 0, 1}}, 0},
		{"tumbling: window boundary splits", []step{{40 * time.Second, "fw", "a", 0, 0}, {50 * time.Second, "fw", "a", 0, 0}, {61 * time.Second, "fw", "a", 0, 0}}, 0},
		{"tumbling: once per window", []step{{0, "fw", "a", 0, 0}, {time.Second, "fw", "a", 0, 0}, {2 * time.Second, "fw", "a", 0, 1}, {3 * time.Second, "fw", "a", 0, 0}, {4 * time.Second, "fw", "a", 0, 0}, {5 * time.Second, "fw", "a", 0, 0}, {65 * time.Second, "fw", "a", 0, 0}}, 0},
		{"distinct: repeats do not count", []step{{0, "scan", "a", 1, 0}, {time.Second, "scan", "a", 1, 0}, {2 * time.Second, "scan", "a", 2, 0}, {3 * time.Second, "scan", "a", 2, 0}, {4 * time.Second, "scan", "a", 3, 1}}, 0},
		{"distinct: refreshed value stays in the window", []step{{0, "scan", "a", 1, 0}, {50 * time.Second, "scan", "a", 2, 0}, {55 * time.Second, "scan", "a", 1, 0}, {70 * time.Second, "scan", "a", 3, 1}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			en := mustEngine(t, rs)
			for i, s := range tc.steps {
				e := ev(fmt.Sprint("e", i), s.at, func(e *event.Event) {
					e.Meta.Module, e.Destination.Port = s.mod, s.port
					e.Source.IP = addr(map[string]string{"a": "10.0.0.1", "b": "10.0.0.2"}[s.src])
				})
				if got := len(en.Eval(e)); got != s.want {
					t.Fatalf("step %d (%s at %s): %d alerts, want %d", i, s.src, s.at, got, s.want)
				}
			}
			if st := en.Stats(); st.Late != tc.late {
				t.Errorf("late %d, want %d", st.Late, tc.late)
			}
		})
	}
}

func TestAlertContent(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
rules:
  - id: SCAN
    title: {ja: ポートスキャン, en: Port scan}
    severity: high
    tags: [T1046]
    condition: event.category == "network"
    threshold: {more_than: 24, distinct: destination.port, by: [source.ip], within: 1m}
`})
	en, _ := NewEngine(Options{Rules: rs, Now: func() time.Time { return t0.Add(time.Hour) }, MaxEventIDs: 3})
	var alerts []Alert
	for i := range 25 {
		alerts = append(alerts, en.Eval(ev(fmt.Sprint("e", i), time.Duration(i)*time.Second, func(e *event.Event) {
			e.Meta.Category = "network"
			e.Source.IP, e.Source.Zone = addr("10.20.1.1"), "lgwan"
			e.Destination.Port, e.Destination.Zone = uint16(100+i), "internet"
		}))...)
	}
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	b, _ := json.MarshalIndent(alerts[0], "", "  ")
	golden(t, "alert.json", string(b)+"\n")
	if s := alerts[0].Subject(); s != "zw.alerts.high" {
		t.Errorf("subject %q", s)
	}
}

func TestSuppression(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
rules:
  - id: S
    ` + title + `    condition: event.module == "x"
    suppress: {for: 10m, by: [user.name]}
`})
	en := mustEngine(t, rs)
	var got []int
	for i, s := range []struct {
		at   time.Duration
		user string
	}{{0, "a"}, {time.Minute, "a"}, {2 * time.Minute, "b"}, {3 * time.Minute, "a"}, {11 * time.Minute, "a"}} {
		as := en.Eval(ev(fmt.Sprint(i), s.at, func(e *event.Event) { e.Meta.Module, e.User.Name = "x", s.user }))
		for _, a := range as {
			got = append(got, a.Suppressed)
		}
		got = append(got, -len(as))
	}
	// a alerts, a held, b alerts, a held, a alerts with 2 held.
	if fmt.Sprint(got) != "[0 -1 0 0 -1 0 2 -1]" {
		t.Errorf("got %v", got)
	}
}

func TestGroupCap(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
rules:
  - id: G
    ` + title + `    condition: event.module == "x"
    threshold: {at_least: 2, by: [source.ip], within: 1h}
`})
	en, _ := NewEngine(Options{Rules: rs, MaxGroups: 10})
	for i := range 100 {
		en.Eval(ev(fmt.Sprint(i), time.Duration(i)*time.Second, func(e *event.Event) {
			e.Meta.Module = "x"
			e.Source.IP = addr(fmt.Sprintf("10.0.0.%d", i))
		}))
	}
	if n := len(en.state["G"].groups); n != 10 {
		t.Errorf("%d groups kept, want 10", n)
	}
	if st := en.Stats(); st.Evicted != 90 {
		t.Errorf("evicted %d, want 90", st.Evicted)
	}
	// The most recent group survived and still counts.
	if a := en.Eval(ev("x", 200*time.Second, func(e *event.Event) { e.Meta.Module, e.Source.IP = "x", addr("10.0.0.99") })); len(a) != 1 {
		t.Errorf("recent group lost its window")
	}
}

func TestSnapshotRestore(t *testing.T) {
	files := map[string]string{"r.yaml": `
rules:
  - id: W
    ` + title + `    condition: event.module == "x"
    threshold: {at_least: 3, distinct: destination.port, by: [source.ip], within: 1h}
    suppress: {for: 1h}
  - id: C
    ` + title + `    condition: event.module == "y"
    threshold: {at_least: 3, by: [source.ip], within: 1h}
`}
	rs := mustLoad(t, files)
	en := mustEngine(t, rs)
	feed := func(en *Engine, i int, mod string) []Alert {
		return en.Eval(ev(fmt.Sprint(mod, i), time.Duration(i)*time.Second, func(e *event.Event) {
			e.Meta.Module, e.Source.IP, e.Destination.Port = mod, addr("10.0.0.1"), uint16(i)
		}))
	}
	feed(en, 1, "x")
	feed(en, 2, "x")
	feed(en, 1, "y")
	feed(en, 2, "y")
	b, err := json.Marshal(en.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	en2 := mustEngine(t, mustLoad(t, files))
	if skipped, err := en2.Restore(snap); err != nil || len(skipped) > 0 {
		t.Fatalf("restore: %v, skipped %v", err, skipped)
	}
	if a := feed(en2, 3, "x"); len(a) != 1 || a[0].Distinct != 3 {
		t.Fatalf("restored distinct window: %+v", a)
	}
	if a := feed(en2, 3, "y"); len(a) != 1 || a[0].Count != 3 {
		t.Fatalf("restored count window: %+v", a)
	}
	// Suppression came along too: after a restore of the post-alert state, the next alert is held.
	b, _ = json.Marshal(en2.Snapshot())
	var snap2 Snapshot
	_ = json.Unmarshal(b, &snap2)
	en3 := mustEngine(t, mustLoad(t, files))
	_, _ = en3.Restore(snap2)
	for i := 10; i < 13; i++ {
		if a := feed(en3, i, "x"); len(a) != 0 {
			t.Fatalf("suppression was not restored")
		}
	}
	// A changed rule does not take the old state.
	files["r.yaml"] = files["r.yaml"][:len(files["r.yaml"])-len("within: 1h}\n")] + "within: 2h}\n"
	en4 := mustEngine(t, mustLoad(t, files))
	skipped, _ := en4.Restore(snap)
	if fmt.Sprint(skipped) != "[C]" {
		t.Errorf("skipped %v, want [C]", skipped)
	}
	if _, err := en4.Restore(Snapshot{Version: 99}); err == nil {
		t.Error("a snapshot of another version was accepted")
	}
}

func TestAbsence(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
lists:
  - {name: expected, items: [fw-2]}
rules:
  - id: SILENT
    kind: absence
    ` + title + `    condition: observer.hostname != ""
    absence: {by: observer.hostname, expected_every: 10m, sources: expected}
`})
	en, _ := NewEngine(Options{Rules: rs, Now: func() time.Time { return t0 }})
	en.Eval(ev("1", 0, func(e *event.Event) { e.Observer.Hostname = "fw-1" }))
	ids := func(as []Alert) string {
		var s []string
		for _, a := range as {
			s = append(s, a.GroupKey)
		}
		return fmt.Sprint(s)
	}
	if got := ids(en.Tick(t0.Add(5 * time.Minute))); got != "[]" {
		t.Errorf("at 5m: %s", got)
	}
	if got := ids(en.Tick(t0.Add(11 * time.Minute))); got != "[observer.hostname=fw-1 observer.hostname=fw-2]" {
		t.Errorf("at 11m: %s", got)
	}
	if got := ids(en.Tick(t0.Add(12 * time.Minute))); got != "[]" {
		t.Errorf("alerted twice: %s", got)
	}
	en.Eval(ev("2", 13*time.Minute, func(e *event.Event) { e.Observer.Hostname = "fw-1" }))
	if got := ids(en.Tick(t0.Add(24 * time.Minute))); got != "[observer.hostname=fw-1]" {
		t.Errorf("after recovery and a new silence: %s", got)
	}
}

func TestSetRulesKeepsState(t *testing.T) {
	files := map[string]string{"r.yaml": `
rules:
  - id: W
    ` + title + `    condition: event.module == "x"
    threshold: {at_least: 2, by: [source.ip], within: 1h}
`}
	en := mustEngine(t, mustLoad(t, files))
	en.Eval(ev("1", 0, func(e *event.Event) { e.Meta.Module = "x" }))
	files["other.yaml"] = "rules:\n  - id: O\n    " + title + "    condition: user.name == \"x\"\n"
	en.SetRules(mustLoad(t, files))
	if a := en.Eval(ev("2", time.Second, func(e *event.Event) { e.Meta.Module = "x" })); len(a) != 1 {
		t.Errorf("the window of an unchanged rule was lost on reload")
	}
}

// TestNativeAgreesWithVM checks that the Go predicates never change a condition's outcome: for every
// rule of the benchmark set and many events, native-then-VM and VM alone agree.
func TestNativeAgreesWithVM(t *testing.T) {
	rs, err := Load(t.Context(), variantRules(t), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	en := mustEngine(t, rs)
	events := benchEvents(4000)
	nativeOnly := 0
	for _, r := range rs.Rules {
		if r.cond.nativeOnly {
			nativeOnly++
		}
		for _, e := range events {
			e.Timestamp = t0
			en.epoch++ // a new event for the shared predicates, as Eval does
			a, errA := r.cond.matches(en, e)
			b, errB := en.run(r.cond.program, e)
			if a != b || (errA == nil) != (errB == nil) {
				t.Fatalf("rule %s, event %s: native path %v/%v, VM %v/%v", r.ID, eventText(e), a, errA, b, errB)
			}
		}
	}
	t.Logf("%d of %d conditions are decided without the VM", nativeOnly, len(rs.Rules))
}

// TestEvalErrors: a condition that fails at evaluation time (a calendar named by data that does not
// exist) skips the event for that rule, is counted, and does not stop the other rules.
func TestEvalErrors(t *testing.T) {
	dir := writeRules(t, map[string]string{"r.yaml": `
lists:
  - {name: cal, kind: map, map: {sato: office, ghost: no-such-calendar}}
rules:
  - id: OFF
    ` + title + `    condition: user.name != "" and offHours(lookup("cal", user.name), timestamp)
  - id: ANY
    ` + title + `    condition: user.name != ""
`})
	cals := CalendarsFunc(func(name string, at time.Time) (bool, error) {
		if name != "office" {
			return false, fmt.Errorf("no calendar named %q", name)
		}
		return at.Hour() >= 9, nil
	})
	rs, err := Load(t.Context(), dir, LoadOptions{Calendars: cals})
	if err != nil {
		t.Fatal(err)
	}
	en, _ := NewEngine(Options{Rules: rs, Logger: slog.New(slog.DiscardHandler)})
	got := en.Eval(ev("1", 0, func(e *event.Event) { e.User.Name = "ghost" }))
	if len(got) != 1 || got[0].RuleID != "ANY" {
		t.Errorf("alerts %+v, want ANY only", got)
	}
	if st := en.Stats(); st.Errors != 1 {
		t.Errorf("errors %d, want 1", st.Errors)
	}
	if got := en.Eval(ev("2", 9*time.Hour, func(e *event.Event) { e.User.Name = "sato" })); len(got) != 2 || got[0].RuleID != "OFF" {
		t.Errorf("after an error the calendar rule gave %+v, want OFF and ANY", got)
	}
}

func TestWindowStartTokyo(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	at := time.Date(2026, 4, 1, 0, 30, 0, 0, jst)
	if got := windowStart(at, 24*time.Hour); !got.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, jst)) {
		t.Errorf("one-day window starts %v, want Tokyo midnight", got.In(jst))
	}
	if got := windowStart(at, time.Minute); !got.Equal(at) {
		t.Errorf("one-minute window starts %v", got)
	}
}

// TestConcurrentUse runs Eval, Tick, Snapshot and SetRules together (go test -race).
func TestConcurrentUse(t *testing.T) {
	rs, err := Load(t.Context(), "default", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	en := mustEngine(t, rs)
	events := benchEvents(2000)
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := w; i < len(events); i += 4 {
				e := *events[i]
				e.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
				en.Eval(&e)
				if i%100 == 0 {
					en.Tick(e.Timestamp)
					_ = en.Snapshot()
				}
				if i%500 == 0 {
					en.SetRules(rs)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if st := en.Stats(); st.Events != uint64(len(events)) {
		t.Errorf("events %d, want %d", st.Events, len(events))
	}
}

func TestZonesAndHosts(t *testing.T) {
	zm, err := zone.New(zone.Options{Zones: map[string][]netip.Prefix{"lgwan": {netip.MustParsePrefix("10.20.0.0/16")}}, Default: "external"})
	if err != nil {
		t.Fatal(err)
	}
	dir := writeRules(t, map[string]string{"r.yaml": `
lists:
  - {name: host_roles, kind: map, map: {gw-x: proxy}}
rules:
  - id: ZONE
    ` + title + `    condition: zoneOf(destination.ip) == "external" and zoneOf(source.ip) == "lgwan"
  - id: ROLE
    ` + title + `    condition: hostRole(destination.host) == "sanitizer"
`})
	rs, err := Load(t.Context(), dir, LoadOptions{Zones: zm, Hosts: []zone.Host{{Name: "gw-x", Role: "sanitizer"}}})
	if err != nil {
		t.Fatal(err)
	}
	en := mustEngine(t, rs)
	got := en.Eval(ev("1", 0, func(e *event.Event) {
		e.Source.IP, e.Destination.IP, e.Destination.Host = addr("10.20.1.1"), addr("203.0.113.5"), "gw-x"
	}))
	if len(got) != 2 {
		t.Errorf("alerts %+v: want ZONE, and ROLE (the zone map's hosts win over the host_roles list)", got)
	}
}

// TestSnapshotJSON pins the snapshot's JSON form, which a later task persists.
func TestSnapshotJSON(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
rules:
  - id: SCAN
    ` + title + `    condition: event.category == "network"
    threshold: {more_than: 5, distinct: destination.port, by: [source.ip, destination.ip], within: 1m}
    suppress: {for: 10m}
  - id: MATCH
    ` + title + `    condition: event.module == "sshd"
    suppress: {for: 10m, by: [user.name]}
  - id: SILENT
    kind: absence
    ` + title + `    condition: observer.hostname != ""
    absence: {by: observer.hostname, expected_every: 10m}
`})
	en := mustEngine(t, rs)
	for i := range 3 {
		en.Eval(ev(fmt.Sprint("n", i), time.Duration(i)*time.Second, func(e *event.Event) {
			e.Meta.Category, e.Observer.Hostname = "network", "fw-core"
			e.Source.IP, e.Destination.IP, e.Destination.Port = addr("10.20.1.1"), addr("10.30.1.1"), uint16(80+i)
			e.Source.Zone, e.Destination.Zone = "lgwan", "internet"
		}))
	}
	en.Eval(ev("s1", 5*time.Second, func(e *event.Event) { e.Meta.Module, e.User.Name = "sshd", "root" }))
	b, _ := json.MarshalIndent(en.Snapshot(), "", "  ")
	golden(t, "snapshot.json", string(b)+"\n")
}

func TestTestEventLabels(t *testing.T) {
	e, err := testEvent(map[string]any{"labels.policyid": uint64(7), "source.ip": "10.1.1.1", "event": map[string]any{"module": "fortigate"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Labels["policyid"] != "7" || e.Meta.Module != "fortigate" || e.Source.IP != addr("10.1.1.1") {
		t.Errorf("decoded %+v", e)
	}
}

func TestIdleGroupsExpire(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
rules:
  - id: G
    ` + title + `    condition: event.module == "x"
    threshold: {at_least: 5, by: [source.ip], within: 1m}
`})
	en := mustEngine(t, rs)
	for i := range 1000 {
		en.Eval(ev(fmt.Sprint(i), time.Duration(i)*time.Second, func(e *event.Event) {
			e.Meta.Module = "x"
			e.Source.IP = addr(fmt.Sprintf("10.0.%d.%d", i/250, i%250))
		}))
	}
	if n := len(en.state["G"].groups); n > 70 {
		t.Errorf("%d groups kept after 1000 one-off sources at one a second with a 1m window", n)
	}
	if st := en.Stats(); st.Evicted != 0 || st.Expired < 900 {
		t.Errorf("evicted %d, expired %d", st.Evicted, st.Expired)
	}
}

func TestSuppressionPeriodsAreSwept(t *testing.T) {
	rs := mustLoad(t, map[string]string{"r.yaml": `
rules:
  - id: S
    ` + title + `    condition: event.module == "x"
    suppress: {for: 10s, by: [source.ip]}
`})
	en := mustEngine(t, rs)
	for i := range 5000 {
		en.Eval(ev(fmt.Sprint(i), time.Duration(i)*time.Second, func(e *event.Event) {
			e.Meta.Module = "x"
			e.Source.IP = addr(fmt.Sprintf("10.%d.%d.1", i/250, i%250))
		}))
	}
	if n := len(en.state["S"].suppress); n > 1100 {
		t.Errorf("%d suppression periods kept, most of them over", n)
	}
}
