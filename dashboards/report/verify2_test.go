package report_test

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/dashboards/report"
	"github.com/zonewatch/zonewatch/rules"
)

// offHours decides every event on its own with the user's calendar.
func (c *checker) offHours() {
	type uc struct{ ev, off uint64 }
	users := map[string]*uc{}
	c.rows(c.cur, "SELECT user_name, timestamp FROM events WHERE "+tsRange+" AND user_name != ''", func(r driver.Rows) error {
		var u string
		var ts time.Time
		if err := r.Scan(&u, &ts); err != nil {
			return err
		}
		w := users[u]
		if w == nil {
			w = &uc{}
			users[u] = w
		}
		w.ev++
		if a, ok := c.f.opts.Accounts(u); ok {
			if cal, ok := c.f.opts.Calendars.Get(a.Calendar); ok && cal.OffHours(ts) {
				w.off++
			}
		}
		return nil
	})
	groups, classes := map[string]*report.OffHoursGroup{}, map[string]*report.OffHoursGroup{}
	unmapped := report.OffHoursGroup{Name: c.r.OffHours.Unmapped.Name}
	var top []report.OffHoursUser
	add := func(g *report.OffHoursGroup, w *uc) {
		g.Users++
		g.Events += w.ev
		g.OffHours += w.off
		if w.off > 0 {
			g.OffHoursUsers++
		}
	}
	for u, w := range users {
		a, ok := c.f.opts.Accounts(u)
		if !ok {
			add(&unmapped, w)
			continue
		}
		for _, m := range []struct {
			m       map[string]*report.OffHoursGroup
			name, c string
		}{{groups, a.Group, a.Calendar}, {classes, a.Class, ""}} {
			if m.m[m.name] == nil {
				m.m[m.name] = &report.OffHoursGroup{Name: m.name, Calendar: m.c}
			}
			add(m.m[m.name], w)
		}
		if w.off > 0 {
			top = append(top, report.OffHoursUser{User: u, Group: a.Group, Events: w.ev, OffHours: w.off})
		}
	}
	flat := func(m map[string]*report.OffHoursGroup) []report.OffHoursGroup {
		var out []report.OffHoursGroup
		for _, g := range m {
			out = append(out, *g)
		}
		slices.SortFunc(out, func(a, b report.OffHoursGroup) int { return strings.Compare(a.Name, b.Name) })
		return out
	}
	slices.SortFunc(top, func(a, b report.OffHoursUser) int {
		if a.OffHours != b.OffHours {
			return cmp.Compare(b.OffHours, a.OffHours)
		}
		return strings.Compare(a.User, b.User)
	})
	top = top[:min(10, len(top))]
	o := c.r.OffHours
	c.eq("off-hours groups", o.Groups, flat(groups))
	c.eq("off-hours classes", o.Classes, flat(classes))
	c.eq("off-hours unmapped", o.Unmapped, unmapped)
	c.eq("off-hours top users", o.TopUsers, top)
	var ohAlerts int
	for _, a := range c.inMonth {
		if strings.HasPrefix(a.RuleID, "ZW-OH-") {
			ohAlerts++
		}
	}
	c.eq("off-hours alerts", o.Alerts, ohAlerts)
	var off uint64
	for _, g := range o.Groups {
		off += g.OffHours
	}
	if off == 0 {
		c.t.Error("no off-hours activity: the simulated off-hours incidents should show")
	}
}

func (c *checker) suspicious() {
	count := func(as []rules.Alert) map[string]uint64 {
		m := map[string]uint64{}
		for _, a := range as {
			m[a.RuleID]++
		}
		return m
	}
	cur, prev := count(c.inMonth), count(c.inPrev)
	var want []string
	for id := range cur {
		want = append(want, id)
	}
	for id := range prev {
		if cur[id] == 0 {
			want = append(want, id)
		}
	}
	sort.Slice(want, func(i, j int) bool {
		if cur[want[i]] != cur[want[j]] {
			return cur[want[i]] > cur[want[j]]
		}
		return want[i] < want[j]
	})
	var got []string
	for _, rc := range c.r.Suspicious.TopRules {
		got = append(got, rc.Rule)
		c.eq(rc.Rule+" alerts", rc.Alerts, cur[rc.Rule])
		c.eq(rc.Rule+" alerts, previous month", rc.PrevAlert, prev[rc.Rule])
		if r, ok := c.f.data.rules.Rule(rc.Rule); ok {
			c.eq(rc.Rule+" title", rc.Title, r.Title.Ja)
		}
	}
	c.eq("rules", got, want)

	var srcs []string
	c.rows(c.cur, "SELECT source_ip, source_zone, count() AS n FROM events WHERE "+tsRange+" AND outcome = 'failure' AND source_ip != toIPv6('::') GROUP BY 1, 2 ORDER BY n DESC, source_ip, source_zone LIMIT 10",
		func(r driver.Rows) error {
			var ip net.IP
			var z string
			var n uint64
			if err := r.Scan(&ip, &z, &n); err != nil {
				return err
			}
			srcs = append(srcs, fmt.Sprintf("%s/%s/%d", ip, z, n))
			return nil
		})
	var gotSrcs []string
	for _, s := range c.r.Suspicious.TopSources {
		gotSrcs = append(gotSrcs, fmt.Sprintf("%s/%s/%d", s.Address, s.Zone, s.Denied))
	}
	c.eq("top sources", gotSrcs, srcs)

	var cats []string
	c.rows(c.cur, "SELECT url_category, count() AS n, countIf(outcome = 'failure') FROM events WHERE "+tsRange+" AND url_category != '' GROUP BY 1 ORDER BY n DESC, url_category LIMIT 15",
		func(r driver.Rows) error {
			var k string
			var n, b uint64
			if err := r.Scan(&k, &n, &b); err != nil {
				return err
			}
			cats = append(cats, fmt.Sprintf("%s/%d/%d", k, n, b))
			return nil
		})
	var gotCats []string
	for _, k := range c.r.Suspicious.Categories {
		gotCats = append(gotCats, fmt.Sprintf("%s/%d/%d", k.Category, k.Events, k.Blocked))
	}
	c.eq("categories", gotCats, cats)
}

// workflow is what insertActions recorded for the alert at index i, as of the end of the month.
func (c *checker) workflow(a rules.Alert) (acked bool, ack time.Time, status string) {
	i := c.actionIx[a.ID]
	end := c.cur[1]
	ack = a.Created.Add(time.Duration(i%7+1) * 20 * time.Minute)
	status = "open"
	if i%3 == 2 || !ack.Before(end) {
		return false, time.Time{}, status
	}
	status = "acknowledge"
	if i%3 == 0 && ack.Add(2*time.Hour).Before(end) {
		status = "resolve"
	}
	return true, ack, status
}

func (c *checker) handling() {
	type acc struct {
		row  report.HandlingRow
		ttas []float64
	}
	by := map[string]*acc{}
	total := &acc{row: report.HandlingRow{Severity: "合計"}}
	for _, s := range report.Severities {
		by[s] = &acc{row: report.HandlingRow{Severity: s}}
	}
	for _, a := range c.inMonth {
		acked, ack, status := c.workflow(a)
		for _, x := range []*acc{by[a.Severity], total} {
			x.row.Opened++
			if acked {
				x.row.Acknowledged++
				x.ttas = append(x.ttas, ack.Sub(a.Created).Minutes())
			}
			if status == "resolve" {
				x.row.Resolved++
			} else {
				x.row.StillOpen++
			}
		}
	}
	var want []report.HandlingRow
	for _, s := range append(slices.Clone(report.Severities), "") {
		x := total
		if s != "" {
			x = by[s]
		}
		sort.Float64s(x.ttas)
		if n := len(x.ttas); n > 0 {
			med := x.ttas[n/2]
			if n%2 == 0 {
				med = (x.ttas[n/2-1] + x.ttas[n/2]) / 2
			}
			x.row.MedianAckMin = float64(int64(med*10+0.5)) / 10
			x.row.MaxAckMin = float64(int64(x.ttas[n-1]*10+0.5)) / 10
		}
		want = append(want, x.row)
	}
	c.eq("alert handling", c.r.Handling, want)
}

func (c *checker) incidents() {
	as := slices.Clone(c.inMonth)
	rank := func(s string) int { return slices.Index(report.Severities, s) }
	slices.SortFunc(as, func(a, b rules.Alert) int {
		if d := rank(a.Severity) - rank(b.Severity); d != 0 {
			return d
		}
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if d := a.FirstSeen.Compare(b.FirstSeen); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	perRule := map[string]int{}
	var want []string
	for _, a := range as {
		if perRule[a.RuleID] == 2 || len(want) == 10 {
			continue
		}
		perRule[a.RuleID]++
		_, _, status := c.workflow(a)
		want = append(want, a.ID+"/"+a.RuleID+"/"+status+"/"+fmt.Sprint(a.Count))
	}
	var got []string
	for _, in := range c.r.Incidents {
		got = append(got, in.ID+"/"+in.Rule+"/"+in.Status+"/"+fmt.Sprint(in.Count))
		if !strings.Contains(in.Description, in.Title) || !strings.Contains(in.Description, report.StatusJa(in.Status)) {
			c.t.Errorf("incident %s: description %q lacks the title or status", in.ID, in.Description)
		}
	}
	c.eq("incidents", got, want)
	if len(got) == 0 || c.r.Incidents[0].Severity != "critical" {
		c.t.Errorf("incidents should start with the simulated mynumber attempts (critical): %v", got)
	}
}

func (c *checker) decisions() {
	var noisy []string
	counts := map[string]uint64{}
	for _, a := range c.inMonth {
		counts[a.RuleID]++
	}
	for id, n := range counts {
		if n > 100 {
			noisy = append(noisy, id)
		}
	}
	slices.Sort(noisy)
	var got []string
	var approved uint64
	for _, d := range c.r.Decisions {
		switch d.Kind {
		case "noisy_rule":
			got = append(got, d.Ref)
			c.eq(d.Ref+" figure", d.Figure, counts[d.Ref])
		case "exception":
			if d.Ref == "approved_mynumber_destinations" {
				approved = d.Figure
			}
		}
	}
	slices.Sort(got)
	c.eq("noisy rules", got, noisy)
	var want uint64
	c.rows(c.cur, "SELECT count() FROM events WHERE "+tsRange+" AND source_zone = 'mynumber' AND destination_ip IN (toIPv6('10.20.0.50'), toIPv6('10.20.0.53'))",
		func(r driver.Rows) error { return r.Scan(&want) })
	c.eq("approved mynumber destinations used", approved, want)
	if want == 0 {
		c.t.Error("the simulated approved flows (WSUS, NTP) did not show")
	}
}
