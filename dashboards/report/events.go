package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/query"
)

// Filters of the event figures: the rule language, so that `zonewatch query FILTER` reproduces them.
const (
	// FilterDenied is a firewall deny, a proxy block or a failed login (what the rollups count as denied).
	FilterDenied = `event.outcome == "failure"`
	// FilterFlow is a connection or attempt with both ends known, as a firewall or host saw it: a
	// proxy's or sanitisation gateway's record of what it relayed is no direct flow (the rules'
	// network_flow macro).
	FilterFlow = `not (source.zone in ["", "unknown"]) and not (destination.zone in ["", "unknown"]) and not (event.module in ["squid", "ifilter", "intersafe", "gateway"])`
	// FilterUsers is the activity of a named account (off-hours section).
	FilterUsers = `user.name != ""`
	// FilterCategories is a proxy request with a web category.
	FilterCategories = `url.category != ""`
)

func (b *builder) summary(ctx context.Context) error {
	q := query.Query{Aggs: []query.Agg{{Op: query.Count}, {Op: query.Denied}}}
	for _, m := range []struct {
		p          period
		ev, denied *uint64
	}{{b.cur, &b.r.Summary.Events, &b.r.Summary.Denied}, {b.prev, &b.r.Summary.PrevEvents, &b.r.Summary.PrevDenied}} {
		res, err := b.aggregate(ctx, m.p, q)
		if err != nil {
			return err
		}
		if len(res.Rows) == 1 {
			*m.ev, *m.denied = u64(res.Rows[0][0]), u64(res.Rows[0][1])
		}
	}
	b.addQuery("events", "総事象数", "", "", "month, prev")
	b.addQuery("denied", "遮断・失敗", FilterDenied, "", "month, prev")
	var err error
	if b.r.Summary.Alerts, err = b.countAlerts(ctx, b.cur); err != nil {
		return err
	}
	b.r.Summary.PrevAlerts, err = b.countAlerts(ctx, b.prev)
	return err
}

func (b *builder) zones(ctx context.Context) error {
	q := query.Query{GroupBy: []string{"source.zone"}, Aggs: []query.Agg{{Op: query.Count}, {Op: query.Denied}}}
	cur, err := b.aggregate(ctx, b.cur, q)
	if err != nil {
		return err
	}
	prev, err := b.aggregate(ctx, b.prev, q)
	if err != nil {
		return err
	}
	alerts, err := b.alertsByZone(ctx)
	if err != nil {
		return err
	}
	for _, z := range Zones {
		z.Alerts = map[string]uint64{}
		for _, row := range cur.Rows {
			if str(row[0]) == z.Zone {
				z.Events, z.Denied = u64(row[1]), u64(row[2])
			}
		}
		for _, row := range prev.Rows {
			if str(row[0]) == z.Zone {
				z.PrevEvents = u64(row[1])
			}
		}
		for _, s := range Severities {
			z.Alerts[s] = alerts[z.Zone+"/"+s]
			z.AlertTotal += z.Alerts[s]
		}
		b.r.Zones = append(b.r.Zones, z)
	}
	b.addQuery("zones", "ゾーン別事象数（送信元ゾーン）", "", "source.zone", "month, prev")
	return nil
}

// zoneNames are the three zones, for filters.
func zoneNames() []string {
	out := make([]string, len(Zones))
	for i, z := range Zones {
		out[i] = z.Zone
	}
	return out
}

// daily sums hourly buckets into Tokyo days: the engine's buckets count from the Unix epoch, whose
// days begin at 09:00 in Tokyo.
func (b *builder) daily(ctx context.Context) error {
	zf := `source.zone in ["mynumber", "lgwan", "internet"]`
	byZone, err := b.aggregate(ctx, b.cur, query.Query{Filter: zf, GroupBy: []string{"source.zone"}, Bucket: time.Hour, Aggs: []query.Agg{{Op: query.Count}}})
	if err != nil {
		return err
	}
	denied, err := b.aggregate(ctx, b.cur, query.Query{Filter: FilterDenied, Bucket: time.Hour, Aggs: []query.Agg{{Op: query.Count}}})
	if err != nil {
		return err
	}
	alerts, err := b.alertsByDay(ctx)
	if err != nil {
		return err
	}
	days := map[string]*DayZones{}
	for d := b.cur.from; d.Before(b.cur.to); d = d.AddDate(0, 0, 1) {
		k := d.Format("2006-01-02")
		days[k] = &DayZones{Day: k, Events: map[string]uint64{}, Alerts: alerts[k]}
		for _, z := range zoneNames() {
			days[k].Events[z] = 0
		}
		b.r.Daily = append(b.r.Daily, DayZones{Day: k})
	}
	day := func(v any) *DayZones {
		t, _ := v.(time.Time)
		return days[t.In(b.cur.from.Location()).Format("2006-01-02")]
	}
	for _, row := range byZone.Rows {
		if d := day(row[0]); d != nil {
			d.Events[str(row[1])] += u64(row[2])
		}
	}
	for _, row := range denied.Rows {
		if d := day(row[0]); d != nil {
			d.Denied += u64(row[1])
		}
	}
	for i := range b.r.Daily {
		b.r.Daily[i] = *days[b.r.Daily[i].Day]
	}
	b.addQuery("daily", "日別・ゾーン別事象数（1時間単位を日本時間の日に合算）", zf, "source.zone, 1h", "month")
	b.addQuery("daily_denied", "日別の遮断・失敗", FilterDenied, "1h", "month")
	return nil
}

func (b *builder) matrix(ctx context.Context) error {
	m, err := b.o.Engine.ZonePairs(ctx, query.Query{From: b.cur.from, To: b.cur.to, Filter: FilterFlow, Limit: b.o.Engine.Limits().MaxRows})
	if err != nil {
		return err
	}
	if m.Truncated {
		return fmt.Errorf("zone pairs: more than %d pairs", b.o.Engine.Limits().MaxRows)
	}
	b.r.MatrixZone = m.Zones
	slices.SortStableFunc(b.r.MatrixZone, func(x, y string) int { return zoneOrder(x) - zoneOrder(y) })
	for _, p := range m.Pairs {
		item, forbidden := policyItemOf(p.Source, p.Destination)
		// The internet zone goes out through the proxy: only a bypass is forbidden, which the matrix
		// cannot tell (section 3 can).
		forbidden = forbidden && item != "ウ"
		b.r.Matrix = append(b.r.Matrix, ZoneCell{Source: p.Source, Destination: p.Destination, Events: p.Events, Denied: p.Denied, Forbidden: forbidden})
	}
	b.addQuery("matrix", "ゾーン間の通信（中継記録を除く）", FilterFlow, "source.zone, destination.zone", "month")
	return nil
}

// zoneOrder puts the policy's zones first, then the outside networks, then the unknown.
func zoneOrder(z string) int {
	switch z {
	case "mynumber":
		return 0
	case "lgwan":
		return 1
	case "internet":
		return 2
	case "external":
		return 4
	case "unknown":
		return 5
	case "":
		return 6
	}
	return 3
}

// crossPairs are the forbidden zone pairs always listed, target 0 each.
var crossPairs = [][2]string{
	{"mynumber", "lgwan"}, {"mynumber", "internet"}, {"mynumber", "external"},
	{"lgwan", "mynumber"}, {"internet", "mynumber"}, {"external", "mynumber"},
	{"lgwan", "internet"}, {"internet", "lgwan"}, {"lgwan", "external"}, {"external", "lgwan"},
	{"internet", "external"},
}

// policyItemOf returns the policy item a flow from src to dst would break, if any.
func policyItemOf(src, dst string) (string, bool) {
	unknown := func(z string) bool { return z == "" || z == "unknown" }
	switch {
	case unknown(src) || unknown(dst) || src == dst:
		return "", false
	case src == "mynumber" || dst == "mynumber":
		return "ア", true
	case (src == "lgwan" && (dst == "internet" || dst == "external")) || (dst == "lgwan" && (src == "internet" || src == "external")):
		return "イ", true
	case src == "internet" && dst == "external":
		return "ウ", true
	}
	return "", false
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// CrossZoneFilter is the filter of section 3: the flows the policy forbids between zones.
func (o Options) CrossZoneFilter() string {
	mn := `(source.zone == "mynumber" and destination.zone != "mynumber"`
	if o.ApprovedLists.Destinations != "" {
		mn += fmt.Sprintf(` and not in_list(destination.ip, %q)`, o.ApprovedLists.Destinations)
	}
	mn += `) or (destination.zone == "mynumber" and source.zone != "mynumber"`
	if o.ApprovedLists.Sources != "" {
		mn += fmt.Sprintf(` and not in_list(source.ip, %q)`, o.ApprovedLists.Sources)
	}
	mn += ")"
	split := `(source.zone in ["lgwan", "internet"] and destination.zone in ["lgwan", "internet"] and source.zone != destination.zone) or (source.zone == "lgwan" and destination.zone == "external") or (source.zone == "external" and destination.zone == "lgwan")`
	bypass := `(source.zone == "internet" and destination.zone == "external"`
	if len(o.ProxyHosts) > 0 {
		l := quoteList(o.ProxyHosts)
		bypass += " and not (source.host in " + l + ") and not (destination.host in " + l + ")"
	}
	if len(o.MailHosts) > 0 {
		// The internet zone's mail server delivers mail itself (the rules' ZW-CZ-004 exception).
		bypass += " and not (source.host in " + quoteList(o.MailHosts) + " and destination.port in [25, 465, 587])"
	}
	bypass += ")"
	return FilterFlow + " and (" + mn + " or " + split + " or " + bypass + ")"
}

func (b *builder) crossZone(ctx context.Context) error {
	f := b.o.CrossZoneFilter()
	q := query.Query{Filter: f, GroupBy: []string{"source.zone", "destination.zone"},
		Aggs: []query.Agg{{Op: query.Count}, {Op: query.Denied}, {Op: query.CountDistinct, Field: "source.ip"}}}
	cur, err := b.aggregate(ctx, b.cur, q)
	if err != nil {
		return err
	}
	prev, err := b.aggregate(ctx, b.prev, q)
	if err != nil {
		return err
	}
	pairs := slices.Clone(crossPairs)
	for _, row := range cur.Rows {
		p := [2]string{str(row[0]), str(row[1])}
		if !slices.Contains(pairs, p) {
			pairs = append(pairs, p)
		}
	}
	for _, p := range pairs {
		item, _ := policyItemOf(p[0], p[1])
		c := CrossZonePair{Source: p[0], Destination: p[1], PolicyItem: item, TopSources: []KeyCount{}}
		for _, row := range cur.Rows {
			if str(row[0]) == p[0] && str(row[1]) == p[1] {
				c.Events, c.Denied, c.Sources = u64(row[2]), u64(row[3]), u64(row[4])
			}
		}
		for _, row := range prev.Rows {
			if str(row[0]) == p[0] && str(row[1]) == p[1] {
				c.PrevEvents = u64(row[2])
			}
		}
		c.Allowed = c.Events - c.Denied
		if c.Events > 0 {
			pf := fmt.Sprintf("%s and source.zone == %q and destination.zone == %q", f, p[0], p[1])
			top, err := b.aggregate(ctx, b.cur, query.Query{Filter: pf, GroupBy: []string{"source.ip"}, Aggs: []query.Agg{{Op: query.Count}}, Limit: 3})
			if err != nil {
				return err
			}
			for _, row := range top.Rows {
				c.TopSources = append(c.TopSources, KeyCount{Key: str(row[0]), Count: u64(row[1])})
			}
		}
		b.r.CrossZone = append(b.r.CrossZone, c)
	}
	b.addQuery("cross_zone", "禁止されたゾーン間通信（承認済み例外・プロキシ自身の通信を除く）", f, "source.zone, destination.zone", "month, prev")
	return nil
}

func (b *builder) suspiciousEvents(ctx context.Context) error {
	f := FilterDenied + " and source.ip != nil"
	top, err := b.aggregate(ctx, b.cur, query.Query{Filter: f, GroupBy: []string{"source.ip", "source.zone"}, Aggs: []query.Agg{{Op: query.Count}}, Limit: 10})
	if err != nil {
		return err
	}
	for _, row := range top.Rows {
		b.r.Suspicious.TopSources = append(b.r.Suspicious.TopSources, SourceCount{Address: str(row[0]), Zone: str(row[1]), Denied: u64(row[2])})
	}
	cats, err := b.aggregate(ctx, b.cur, query.Query{Filter: FilterCategories, GroupBy: []string{"url.category"}, Aggs: []query.Agg{{Op: query.Count}, {Op: query.Denied}}, Limit: 15})
	if err != nil {
		return err
	}
	for _, row := range cats.Rows {
		b.r.Suspicious.Categories = append(b.r.Suspicious.Categories, CategoryCount{Category: str(row[0]), Events: u64(row[1]), Blocked: u64(row[2])})
	}
	b.addQuery("top_sources", "遮断・失敗の多い送信元", f, "source.ip, source.zone", "month")
	b.addQuery("categories", "プロキシのカテゴリ別", FilterCategories, "url.category", "month")
	return nil
}
