package backtest_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/rules"
	"github.com/zonewatch/zonewatch/rules/backtest"
)

func testRules(t *testing.T, ids ...string) *rules.RuleSet {
	t.Helper()
	rs, err := rules.Load(t.Context(), "testdata/rules", rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rs, err = rs.Select(ids...); err != nil {
		t.Fatal(err)
	}
	return rs
}

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, calendar.Tokyo())
	if err != nil {
		panic(err)
	}
	return t
}

func ev(id, at, src, action, observer string) *event.Event {
	e := &event.Event{ID: id, Timestamp: jst(at)}
	e.Meta.Ingested = e.Timestamp.Add(300 * time.Millisecond)
	e.Meta.Action = action
	e.Source.IP = netip.MustParseAddr(src)
	e.Destination.Port = 22
	e.Observer.Hostname = observer
	return e
}

// Alerts count on the Japanese day of the event that raised them; events outside the period are not
// evaluated; suppression holds as it does live.
func TestAlertsPerJapaneseDay(t *testing.T) {
	bt, err := backtest.New(backtest.Options{Rules: testRules(t, "T-DENY"), From: jst("2026-11-01 12:00:00"), To: jst("2026-11-02 12:00:00")})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*event.Event{
		ev("before", "2026-11-01 11:59:59", "10.0.0.9", "deny", ""), // before the period
		ev("a", "2026-11-01 23:59:59", "10.0.0.1", "deny", ""),      // alert, 1 November
		ev("b", "2026-11-02 00:00:30", "10.0.0.2", "deny", ""),      // alert, 2 November (15:00:30 UTC on the 1st)
		ev("c", "2026-11-02 00:05:00", "10.0.0.1", "deny", ""),      // suppressed: 10.0.0.1 alerted 5 minutes ago
		ev("d", "2026-11-02 01:00:00", "10.0.0.3", "allow", ""),     // no match
		ev("at-end", "2026-11-02 12:00:00", "10.0.0.9", "deny", ""), // To is excluded
	} {
		bt.Eval(e)
	}
	rep := bt.Finish()
	rr, ok := rep.Rule("T-DENY")
	if !ok {
		t.Fatal("no report for T-DENY")
	}
	if got := fmt.Sprint(rr.Days); rr.Alerts != 2 || got != "map[2026-11-01:1 2026-11-02:1]" || rep.Events != 4 || rep.Alerts != 2 {
		t.Errorf("T-DENY: %d alerts on %s, %d events evaluated; want 2 on map[2026-11-01:1 2026-11-02:1], 4 events", rr.Alerts, got, rep.Events)
	}
	var ids []string
	for _, a := range bt.Alerts() {
		ids = append(ids, a.EventIDs[0]+"@"+a.Created.In(calendar.Tokyo()).Format(time.TimeOnly))
	}
	if got := fmt.Sprint(ids); got != "[a@23:59:59 b@00:00:30]" {
		t.Errorf("alerts %s, want [a@23:59:59 b@00:00:30] (created at their event's time)", got)
	}
	if bt.Eval(ev("late", "2026-11-02 02:00:00", "10.0.0.5", "deny", "")) != nil {
		t.Error("Eval after Finish raised an alert")
	}
}

// Absence rules are checked every minute of the period on the events' clock, through Finish.
func TestAbsenceOnEventTime(t *testing.T) {
	from := jst("2026-11-02 00:00:00")
	bt, err := backtest.New(backtest.Options{Rules: testRules(t, "T-SILENT"), From: from, To: from.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	bt.Eval(ev("1", "2026-11-02 00:01:00", "10.0.0.1", "allow", "fw"))
	bt.Eval(ev("2", "2026-11-02 02:00:00", "10.0.0.1", "allow", "fw"))
	bt.Finish()
	var got []string
	for _, a := range bt.Alerts() {
		got = append(got, a.Created.In(calendar.Tokyo()).Format("15:04"))
	}
	// Silent from 00:01: more than 30 minutes at 00:32, again an hour later; heard at 02:00, silent
	// again at 02:31; the period ends at 03:00.
	if fmt.Sprint(got) != "[00:32 01:32 02:31]" {
		t.Errorf("absence alerts at %v, want [00:32 01:32 02:31]", got)
	}
}

func TestPushDown(t *testing.T) {
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{[]string{"T-DENY"}, `(event.action == "deny" and destination.port > 0)`},
		{[]string{"T-DENY", "T-SILENT"}, "(event.action == \"deny\" and destination.port > 0)\nor (observer.hostname != \"\")"},
	} {
		if got, notes := backtest.PushDown(testRules(t, tc.ids...)); got != tc.want || len(notes) > 0 {
			t.Errorf("%v: filter %q (notes %v), want %q", tc.ids, got, notes, tc.want)
		}
	}
	if _, err := backtest.New(backtest.Options{Rules: testRules(t, "T-DENY"), From: jst("2026-11-02 00:00:00"), To: jst("2026-11-01 00:00:00")}); err == nil {
		t.Error("a period that ends before it starts was accepted")
	}
}
