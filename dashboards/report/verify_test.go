package report_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/dashboards/report"
	"github.com/zonewatch/zonewatch/rules"
)

// The checks below recompute every figure of the model independently of the report package: event
// figures with hand-written SQL over the raw events table (never the rollups the engine reads), alert
// figures from the alerts the rule engine raised in Go, workflow figures from the actions the test
// itself recorded, and off-hours per event with the calendars (the engine decides per quarter hour).

type checker struct {
	t        *testing.T
	f        *fixture
	r        *report.Report
	cur      [2]time.Time
	prev     [2]time.Time
	inMonth  []rules.Alert // alerts first seen in the month, each id once
	inPrev   []rules.Alert
	actionIx map[string]int // alert id → its index in f.data.stored (the actions depend on it)
}

func newChecker(t *testing.T, f *fixture, r *report.Report) *checker {
	from, to, _ := report.MonthRange(month)
	c := &checker{t: t, f: f, r: r, cur: [2]time.Time{from, to}, prev: [2]time.Time{from.AddDate(0, -1, 0), from}, actionIx: map[string]int{}}
	for i, a := range f.data.stored {
		c.actionIx[a.ID] = i
		switch {
		case !a.FirstSeen.Before(from) && a.FirstSeen.Before(to):
			c.inMonth = append(c.inMonth, a)
		case !a.FirstSeen.Before(c.prev[0]) && a.FirstSeen.Before(from):
			c.inPrev = append(c.inPrev, a)
		}
	}
	return c
}

// rows runs sql over the events of a period ({from}, {to}) and scans each row into dst.
func (c *checker) rows(p [2]time.Time, sql string, scan func(driver.Rows) error) {
	c.t.Helper()
	const layout = "2006-01-02 15:04:05.000"
	rs, err := c.f.conn.Query(context.Background(), sql, clickhouse.Named("from", p[0].UTC().Format(layout)), clickhouse.Named("to", p[1].UTC().Format(layout)))
	if err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	defer rs.Close()
	for rs.Next() {
		if err := scan(rs); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := rs.Err(); err != nil {
		c.t.Fatal(err)
	}
}

const tsRange = "timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}"

func (c *checker) eq(what string, got, want any) {
	c.t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		c.t.Errorf("%s: report says %v, independent count %v", what, got, want)
	}
}

func (c *checker) summary() {
	s := c.r.Summary
	for _, m := range []struct {
		p          [2]time.Time
		ev, denied uint64
		name       string
	}{{c.cur, s.Events, s.Denied, "month"}, {c.prev, s.PrevEvents, s.PrevDenied, "previous month"}} {
		var ev, denied uint64
		c.rows(m.p, "SELECT count(), countIf(outcome = 'failure') FROM events WHERE "+tsRange, func(r driver.Rows) error { return r.Scan(&ev, &denied) })
		c.eq("events, "+m.name, m.ev, ev)
		c.eq("denied, "+m.name, m.denied, denied)
	}
	c.eq("alerts", s.Alerts, len(c.inMonth))
	c.eq("alerts, previous month", s.PrevAlerts, len(c.inPrev))
	if s.Events == 0 || s.Alerts == 0 {
		c.t.Errorf("the simulated month gave %d events and %d alerts: the checks would prove nothing", s.Events, s.Alerts)
	}
}

func (c *checker) zones() {
	type zc struct{ ev, denied, prev uint64 }
	want := map[string]*zc{}
	for _, z := range []string{"mynumber", "lgwan", "internet"} {
		want[z] = &zc{}
	}
	for i, p := range [][2]time.Time{c.cur, c.prev} {
		c.rows(p, "SELECT source_zone, count(), countIf(outcome = 'failure') FROM events WHERE "+tsRange+" GROUP BY source_zone", func(r driver.Rows) error {
			var z string
			var n, d uint64
			if err := r.Scan(&z, &n, &d); err != nil {
				return err
			}
			if w, ok := want[z]; ok {
				if i == 0 {
					w.ev, w.denied = n, d
				} else {
					w.prev = n
				}
			}
			return nil
		})
	}
	if len(c.r.Zones) != 3 {
		c.t.Fatalf("zones: %d, want the three zones", len(c.r.Zones))
	}
	for _, z := range c.r.Zones {
		w := want[z.Zone]
		c.eq(z.Zone+" events", z.Events, w.ev)
		c.eq(z.Zone+" denied", z.Denied, w.denied)
		c.eq(z.Zone+" previous month", z.PrevEvents, w.prev)
		var total uint64
		for _, sev := range report.Severities {
			var n uint64
			for _, a := range c.inMonth {
				if a.Severity == sev && slices.Contains(a.Zones, z.Zone) {
					n++
				}
			}
			c.eq(z.Zone+" alerts "+sev, z.Alerts[sev], n)
			total += n
		}
		c.eq(z.Zone+" alerts", z.AlertTotal, total)
	}
}

func (c *checker) daily() {
	want := map[string]map[string]uint64{}
	denied := map[string]uint64{}
	c.rows(c.cur, "SELECT toString(toDate(timestamp, 'Asia/Tokyo')), source_zone, count(), countIf(outcome = 'failure') FROM events WHERE "+tsRange+" GROUP BY 1, 2", func(r driver.Rows) error {
		var d, z string
		var n, dn uint64
		if err := r.Scan(&d, &z, &n, &dn); err != nil {
			return err
		}
		if want[d] == nil {
			want[d] = map[string]uint64{}
		}
		want[d][z] = n
		denied[d] += dn
		return nil
	})
	alerts := map[string]uint64{}
	for _, a := range c.inMonth {
		alerts[a.FirstSeen.In(c.cur[0].Location()).Format("2006-01-02")]++
	}
	if len(c.r.Daily) != 30 {
		c.t.Errorf("daily: %d days, want 30 for November", len(c.r.Daily))
	}
	for _, d := range c.r.Daily {
		for _, z := range []string{"mynumber", "lgwan", "internet"} {
			c.eq(d.Day+" "+z, d.Events[z], want[d.Day][z])
		}
		c.eq(d.Day+" denied", d.Denied, denied[d.Day])
		c.eq(d.Day+" alerts", d.Alerts, alerts[d.Day])
	}
}

// flowSQL is FilterFlow written by hand.
const flowSQL = "source_zone NOT IN ('', 'unknown') AND destination_zone NOT IN ('', 'unknown') AND source_type NOT IN ('squid', 'ifilter', 'intersafe', 'gateway')"

func (c *checker) matrix() {
	want := map[string][2]uint64{}
	c.rows(c.cur, "SELECT source_zone, destination_zone, count(), countIf(outcome = 'failure') FROM events WHERE "+tsRange+" AND "+flowSQL+" GROUP BY 1, 2", func(r driver.Rows) error {
		var s, d string
		var n, dn uint64
		if err := r.Scan(&s, &d, &n, &dn); err != nil {
			return err
		}
		want[s+">"+d] = [2]uint64{n, dn}
		return nil
	})
	c.eq("matrix cells", len(c.r.Matrix), len(want))
	for _, m := range c.r.Matrix {
		w := want[m.Source+">"+m.Destination]
		c.eq("matrix "+m.Source+">"+m.Destination, [2]uint64{m.Events, m.Denied}, w)
	}
}

// crossSQL classifies forbidden flows by hand: the approved addresses are those of the default pack's
// list files, the proxies and the mail server those of the simulated organisation.
const crossSQL = flowSQL + ` AND (
	(source_zone = 'mynumber' AND destination_zone != 'mynumber' AND destination_ip NOT IN (toIPv6('10.20.0.50'), toIPv6('10.20.0.53')))
	OR (destination_zone = 'mynumber' AND source_zone != 'mynumber' AND source_ip != toIPv6('10.20.0.60'))
	OR (source_zone = 'lgwan' AND destination_zone IN ('internet', 'external')) OR (destination_zone = 'lgwan' AND source_zone IN ('internet', 'external'))
	OR (source_zone = 'internet' AND destination_zone = 'external' AND source_host NOT IN ('proxy-sq1', 'proxy-sq2', 'proxy-if1')
		AND destination_host NOT IN ('proxy-sq1', 'proxy-sq2', 'proxy-if1') AND NOT (source_host = 'in-mail01' AND destination_port IN (25, 465, 587))))`

func (c *checker) crossZone() {
	type pc struct{ ev, denied, sources, prev uint64 }
	want := map[string]*pc{}
	for i, p := range [][2]time.Time{c.cur, c.prev} {
		c.rows(p, "SELECT source_zone, destination_zone, count(), countIf(outcome = 'failure'), uniqExact(source_ip) FROM events WHERE "+tsRange+" AND "+crossSQL+" GROUP BY 1, 2",
			func(r driver.Rows) error {
				var s, d string
				var n, dn, src uint64
				if err := r.Scan(&s, &d, &n, &dn, &src); err != nil {
					return err
				}
				w := want[s+">"+d]
				if w == nil {
					w = &pc{}
					want[s+">"+d] = w
				}
				if i == 0 {
					w.ev, w.denied, w.sources = n, dn, src
				} else {
					w.prev = n
				}
				return nil
			})
	}
	var nonZero int
	for _, p := range c.r.CrossZone {
		k := p.Source + ">" + p.Destination
		w := want[k]
		if w == nil {
			w = &pc{}
		}
		delete(want, k)
		c.eq(k+" events", p.Events, w.ev)
		c.eq(k+" denied", p.Denied, w.denied)
		c.eq(k+" allowed", p.Allowed, w.ev-w.denied)
		c.eq(k+" sources", p.Sources, w.sources)
		c.eq(k+" previous month", p.PrevEvents, w.prev)
		var top []string
		if w.ev > 0 {
			nonZero++
			c.rows(c.cur, fmt.Sprintf("SELECT source_ip, count() AS n FROM events WHERE %s AND %s AND source_zone = '%s' AND destination_zone = '%s' GROUP BY source_ip ORDER BY n DESC, source_ip LIMIT 3",
				tsRange, crossSQL, p.Source, p.Destination), func(r driver.Rows) error {
				var ip net.IP
				var n uint64
				if err := r.Scan(&ip, &n); err != nil {
					return err
				}
				top = append(top, fmt.Sprintf("%s:%d", ip, n))
				return nil
			})
		}
		var got []string
		for _, s := range p.TopSources {
			got = append(got, fmt.Sprintf("%s:%d", s.Key, s.Count))
		}
		c.eq(k+" top sources", got, top)
	}
	for k, w := range want {
		if w.ev > 0 {
			c.t.Errorf("forbidden pair %s has %d events but is not in the report", k, w.ev)
		}
	}
	if nonZero == 0 {
		c.t.Error("no forbidden pair had events: the simulated incidents should have made some")
	}
}

func (c *checker) coverage() {
	type sc struct {
		ev, unparsed, prev uint64
		hours              []time.Time
		skew               int64
	}
	want := map[string]*sc{}
	key := func(h, t, l string) string { return h + "|" + t + "|" + l }
	const inRange = "ingested >= {from:DateTime64(3, 'UTC')} AND ingested < {to:DateTime64(3, 'UTC')}"
	for i, p := range [][2]time.Time{c.cur, c.prev} {
		c.rows(p, "SELECT observer_host, source_type, listener, toStartOfHour(ingested) AS h, count(), countIf(parse_status != 'ok'), max(timestamp), max(ingested) FROM events WHERE "+inRange+" GROUP BY 1, 2, 3, 4",
			func(r driver.Rows) error {
				var h, t, l string
				var hour, lastTS, lastIn time.Time
				var n, un uint64
				if err := r.Scan(&h, &t, &l, &hour, &n, &un, &lastTS, &lastIn); err != nil {
					return err
				}
				w := want[key(h, t, l)]
				if w == nil {
					w = &sc{}
					want[key(h, t, l)] = w
				}
				if i == 1 {
					w.prev += n
					return nil
				}
				w.ev += n
				w.unparsed += un
				w.hours = append(w.hours, hour)
				if s := int64(lastTS.Sub(lastIn) / time.Second); abs(s) > abs(w.skew) {
					w.skew = s
				}
				return nil
			})
	}
	hours := int(c.cur[1].Sub(c.cur[0]) / time.Hour)
	var reporting int
	for _, s := range c.r.Coverage {
		k := key(s.Host, s.Type, s.Listener)
		w := want[k]
		if w == nil {
			w = &sc{}
		}
		delete(want, k)
		c.eq(k+" events", s.Events, w.ev)
		c.eq(k+" unparsed", s.Unparsed, w.unparsed)
		c.eq(k+" previous month", s.PrevEvents, w.prev)
		c.eq(k+" hours reporting", s.HoursReporting, len(w.hours))
		c.eq(k+" silent hours", s.SilentHours, hours-len(w.hours))
		c.eq(k+" longest gap", s.LongestGap, longestGap(w.hours, c.cur[0], c.cur[1]))
		c.eq(k+" skew", s.MaxSkewSeconds, w.skew)
		if s.Reporting {
			reporting++
		}
	}
	for k := range want {
		c.t.Errorf("source %s sent events but is not in the report", k)
	}
	c.eq("sources reporting", c.r.Summary.SourcesReporting, reporting)
	if c.r.Summary.SourcesExpected < reporting {
		c.t.Errorf("sources expected %d < reporting %d", c.r.Summary.SourcesExpected, reporting)
	}
}

// longestGap counts the hours without data between from, the hours with data and to.
func longestGap(hours []time.Time, from, to time.Time) int {
	slices.SortFunc(hours, func(a, b time.Time) int { return a.Compare(b) })
	edges := append(append([]time.Time{from.Add(-time.Hour)}, hours...), to)
	gap := 0
	for i := 1; i < len(edges); i++ {
		gap = max(gap, int(edges[i].Sub(edges[i-1])/time.Hour)-1)
	}
	return gap
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
