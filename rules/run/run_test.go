package run_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/rules"
	"github.com/zonewatch/zonewatch/rules/run"
)

var t0 = time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)

// attackTraffic: port scans from 16 addresses and SSH brute force from 10, interleaved as they would
// arrive, with background connections; the default pack's ZW-ST-001 and ZW-ST-002 fire on most of them.
func attackTraffic() []*event.Event {
	var out []*event.Event
	add := func(at time.Duration, mod func(e *event.Event)) {
		e := &event.Event{ID: fmt.Sprintf("ev-%05d", len(out)+1), Timestamp: t0.Add(at)}
		e.Meta.Ingested = e.Timestamp
		mod(e)
		out = append(out, e)
	}
	for i := range 30 {
		for s := range 16 {
			if s%5 == 4 && i >= 18 {
				continue // these stop at 18 ports: no alert
			}
			add(time.Duration(i)*time.Second+time.Duration(s)*time.Millisecond, func(e *event.Event) {
				e.Source.IP, e.Source.Zone = netip.AddrFrom4([4]byte{10, 20, 4, byte(s + 1)}), "lgwan"
				e.Destination.IP, e.Destination.Zone = netip.AddrFrom4([4]byte{10, 20, 0, byte(i%3 + 1)}), "lgwan"
				e.Destination.Port = uint16(1000 + i)
				e.Meta.Module, e.Meta.Category, e.Meta.Action, e.Meta.Outcome = "fortigate", "network", "deny", "failure"
				e.Observer.Hostname = "fw-core"
			})
		}
		for s := range 10 {
			add(time.Duration(i)*8*time.Second+time.Duration(s)*time.Millisecond+500*time.Millisecond, func(e *event.Event) {
				e.Source.IP, e.Source.Zone = netip.AddrFrom4([4]byte{198, 51, 100, byte(s + 1)}), "external"
				e.Destination.IP, e.Destination.Zone = netip.MustParseAddr("10.30.0.22"), "internet"
				e.User.Name = "root"
				e.Meta.Module, e.Meta.Category, e.Meta.Action, e.Meta.Outcome = "sshd", "authentication", "login-failed", "failure"
				e.Observer.Hostname = "bastion"
			})
		}
	}
	return out
}

// TestTwoPartitionedProcessesRaiseWhatOneRaises: two rule stages, each with half of the group keys and
// a consumer of its own, over one stream, store exactly the alerts (rule, group, window start) one stage
// stores — none twice, none missed — with the default pack's port-scan and SSH brute-force rules.
func TestTwoPartitionedProcessesRaiseWhatOneRaises(t *testing.T) {
	js := startJS(t)
	traffic := attackTraffic()
	publishBatched(t, js, traffic) // several events per message, as ingest publishes them

	oneConn, oneDB := migrated(t)
	one := startStage(t, run.Options{JS: js, CH: oneConn, Database: oneDB, RulesDir: "../default"})
	conn, db := migrated(t) // the two partitions store into one database, as production processes do
	var parts []*stage
	var notified []*recorder
	for i := range 2 {
		rec := &recorder{}
		notified = append(notified, rec)
		parts = append(parts, startStage(t, run.Options{JS: js, CH: conn, Database: db, RulesDir: "../default",
			Partition: rules.Partition{Index: i, Count: 2}, Notifier: rec, StateFile: filepath.Join(t.TempDir(), "state.json")}))
	}
	one.drained(t, js)
	for _, p := range parts {
		p.drained(t, js)
	}
	if got := one.metric(t, "zonewatch_rules_events_total"); got != float64(len(traffic)) {
		t.Errorf("one process evaluated %v events, want %d", got, len(traffic))
	}
	want := alertRows(t, oneConn, oneDB)
	got := alertRows(t, conn, db)
	counts := map[string]int{}
	for _, row := range want {
		counts[strings.Fields(row)[0]]++
	}
	if counts["ZW-ST-001"] != 13 || counts["ZW-ST-002"] != 10 {
		t.Errorf("one process raised %v; the traffic holds 13 port scans and 10 brute-force attacks", counts)
	}
	if !slices.Equal(got, want) {
		t.Errorf("two processes stored %d alerts, one %d\ntwo:\n%s\none:\n%s", len(got), len(want), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each process raised its share, and notified exactly what it stored.
	var all []string
	for i, rec := range notified {
		ids := rec.ids()
		if len(ids) == 0 || len(ids) == len(want) {
			t.Errorf("partition %d raised %d of %d alerts: the keys are not split", i, len(ids), len(want))
		}
		all = append(all, ids...)
	}
	slices.Sort(all)
	var stored []string
	for _, row := range got {
		f := strings.Fields(row)
		stored = append(stored, f[len(f)-1])
	}
	slices.Sort(stored)
	if !slices.Equal(all, stored) {
		t.Errorf("notified %v\nstored %v", all, stored)
	}
}

// TestReplayNotifiesOnce: events read again (here by a second consumer from the stream's start, as when
// rules.partition changes; a crash before the ack replays the same way) raise the same alert ids: the
// alerts table keeps one row each, and the notifiers are not paged a second time.
func TestReplayNotifiesOnce(t *testing.T) {
	js := startJS(t)
	publishBatched(t, js, attackTraffic())
	conn, db := migrated(t)
	first, again := &recorder{}, &recorder{}
	a := startStage(t, run.Options{JS: js, CH: conn, Database: db, RulesDir: "../default", Durable: "rules-first", Notifier: first})
	a.drained(t, js)
	stored := alertRows(t, conn, db)
	if len(first.ids()) == 0 || len(first.ids()) != len(stored) {
		t.Fatalf("first pass notified %d alerts and stored %d: want the same, more than none", len(first.ids()), len(stored))
	}
	b := startStage(t, run.Options{JS: js, CH: conn, Database: db, RulesDir: "../default", Durable: "rules-replay", Notifier: again})
	b.drained(t, js)
	if ids := again.ids(); len(ids) != 0 {
		t.Errorf("the replay notified %d alerts again: %v", len(ids), ids)
	}
	if got := b.metric(t, "zonewatch_rules_alerts_replayed_total"); got != float64(len(stored)) {
		t.Errorf("zonewatch_rules_alerts_replayed_total = %v, want %d (every alert raised again)", got, len(stored))
	}
	if got := alertRows(t, conn, db); !slices.Equal(got, stored) {
		t.Errorf("after the replay the alerts table holds %d alerts, before %d", len(got), len(stored))
	}
}

const reloadRules = `
rules:
  - id: ALPHA
    title: {ja: アルファ, en: Alpha}
    severity: low
    condition: event.action == "alpha"
  - id: THREE-TICKS
    title: {ja: 三回, en: Three ticks}
    severity: medium
    condition: event.action == "tick"
    threshold: {at_least: 3, by: [source.ip], within: 1h}
`

const betaRule = `
rules:
  - id: BETA
    title: {ja: ベータ, en: Beta}
    severity: high
    condition: event.action == "beta"
`

// TestHotReload: a rule added to the rules directory fires without a restart, a threshold rule left
// unchanged keeps its window across the reload, and a broken rule set is refused (counted) while the
// previous rules keep firing.
func TestHotReload(t *testing.T) {
	js := startJS(t)
	conn, db := migrated(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "base.yaml"), reloadRules)
	s := startStage(t, run.Options{JS: js, CH: conn, Database: db, RulesDir: dir, Debounce: 50 * time.Millisecond})
	<-s.r.Watching()
	n := 0
	send := func(action string) {
		n++
		e := &event.Event{ID: fmt.Sprintf("ev-%d", n), Timestamp: t0.Add(time.Duration(n) * time.Second)}
		e.Source.IP, e.Source.Zone, e.Meta.Module, e.Meta.Action = netip.MustParseAddr("10.20.1.1"), "lgwan", "syslog", action
		publish(t, js, []*event.Event{e})
		s.drained(t, js)
	}
	fired := func() string {
		var ids []string
		for _, row := range alertRows(t, conn, db) {
			ids = append(ids, strings.Fields(row)[0])
		}
		return strings.Join(ids, " ")
	}
	send("alpha")
	send("beta")
	send("tick")
	send("tick")
	if got := fired(); got != "ALPHA" {
		t.Fatalf("before the reload: %q, want ALPHA", got)
	}
	loadedAt := s.metric(t, "zonewatch_rules_last_reload_success_timestamp_seconds")

	writeFile(t, filepath.Join(dir, "beta.yaml"), betaRule)
	s.waitMetric(t, "zonewatch_rules_loaded", func(v float64) bool { return v == 3 })
	if at := s.metric(t, "zonewatch_rules_last_reload_success_timestamp_seconds"); at < loadedAt {
		t.Errorf("last reload success %v before the first load %v", at, loadedAt)
	}
	send("beta")
	send("tick") // the third tick: the two before the reload are still in the window
	if got := fired(); got != "ALPHA BETA THREE-TICKS" {
		t.Fatalf("after adding BETA: %q, want ALPHA BETA THREE-TICKS", got)
	}

	// A misspelt field: the set is refused and the rules in force keep running.
	writeFile(t, filepath.Join(dir, "broken.yaml"), strings.ReplaceAll(betaRule, "BETA", "GAMMA")+"    exceptions: [{name: x, condition: user.nme == \"x\"}]\n")
	writeFile(t, filepath.Join(dir, "base.yaml"), strings.ReplaceAll(reloadRules, `"alpha"`, `"alpha2"`))
	s.waitMetric(t, "zonewatch_rules_reload_failures_total", func(v float64) bool { return v >= 1 })
	if got := s.metric(t, "zonewatch_rules_loaded"); got != 3 {
		t.Errorf("rules in force after a refused set: %v, want 3", got)
	}
	send("alpha")
	send("beta")
	if got := fired(); got != "ALPHA ALPHA BETA BETA THREE-TICKS" {
		t.Fatalf("after a broken set: %q, want the previous rules to fire (ALPHA ALPHA BETA BETA THREE-TICKS)", got)
	}
}

// TestReloadOnSignal: with file events slow to settle, the signal alone reloads the rules.
func TestReloadOnSignal(t *testing.T) {
	js := startJS(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "base.yaml"), reloadRules)
	hup := make(chan os.Signal, 1)
	s := startStage(t, run.Options{JS: js, RulesDir: dir, Reload: hup, Debounce: time.Hour})
	// The watch starts by reloading once (a change made since New is not missed): wait for it.
	select {
	case <-s.r.Watching():
	case <-time.After(20 * time.Second):
		t.Fatal("the rules directory is not watched after 20s")
	}
	writeFile(t, filepath.Join(dir, "beta.yaml"), betaRule)
	time.Sleep(300 * time.Millisecond)
	if n := s.metric(t, "zonewatch_rules_loaded"); n != 2 {
		t.Fatalf("%v rules loaded before the signal; the debounce should hold the file change back", n)
	}
	hup <- syscall.SIGHUP
	s.waitMetric(t, "zonewatch_rules_loaded", func(v float64) bool { return v == 3 })
}
