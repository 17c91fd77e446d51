package report

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The alerts of a month are those first seen in it, read with FINAL (a replayed alert is stored again
// under the same id). Their status is the last alert_actions row before the month's end, so that a
// report made later says the same.

func (b *builder) table(name string) string { return "`" + b.o.Database + "`." + name }

// rangeArgs binds {from} and {to} to a period.
func rangeArgs(p period) []any {
	const layout = "2006-01-02 15:04:05.000"
	return []any{clickhouse.Named("from", p.from.UTC().Format(layout)), clickhouse.Named("to", p.to.UTC().Format(layout))}
}

const inRange = "first_seen >= {from:DateTime64(3, 'UTC')} AND first_seen < {to:DateTime64(3, 'UTC')}"

// query runs sql with the period's range and hands each row to scan.
func (b *builder) query(ctx context.Context, p period, sql string, scan func(driver.Rows) error) error {
	rows, err := b.o.Conn.Query(ctx, sql, rangeArgs(p)...)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(strings.Fields(sql), " "), err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (b *builder) countAlerts(ctx context.Context, p period) (uint64, error) {
	var n uint64
	err := b.query(ctx, p, "SELECT count() FROM "+b.table("alerts")+" FINAL WHERE "+inRange, func(r driver.Rows) error { return r.Scan(&n) })
	return n, err
}

// alertsByZone counts alerts per zone they involve and severity: "zone/severity" → alerts.
func (b *builder) alertsByZone(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := b.query(ctx, b.cur, "SELECT z, severity, count() FROM "+b.table("alerts")+" FINAL ARRAY JOIN zones AS z WHERE "+inRange+" GROUP BY z, severity",
		func(r driver.Rows) error {
			var z, s string
			var n uint64
			if err := r.Scan(&z, &s, &n); err != nil {
				return err
			}
			out[z+"/"+s] = n
			return nil
		})
	return out, err
}

func (b *builder) alertsByDay(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := b.query(ctx, b.cur, "SELECT toString(toDate(first_seen, 'Asia/Tokyo')), count() FROM "+b.table("alerts")+" FINAL WHERE "+inRange+" GROUP BY 1",
		func(r driver.Rows) error {
			var d string
			var n uint64
			if err := r.Scan(&d, &n); err != nil {
				return err
			}
			out[d] = n
			return nil
		})
	return out, err
}

func (b *builder) suspicious(ctx context.Context) error {
	rules := map[string]*RuleCount{}
	for _, m := range []struct {
		p    period
		prev bool
	}{{b.cur, false}, {b.prev, true}} {
		err := b.query(ctx, m.p, "SELECT rule_id, any(title_ja), any(severity), count() FROM "+b.table("alerts")+" FINAL WHERE "+inRange+" GROUP BY rule_id",
			func(r driver.Rows) error {
				var id, title, sev string
				var n uint64
				if err := r.Scan(&id, &title, &sev, &n); err != nil {
					return err
				}
				rc, ok := rules[id]
				if !ok {
					rc = &RuleCount{Rule: id, Title: title, Severity: sev}
					rules[id] = rc
				}
				if m.prev {
					rc.PrevAlert = n
				} else {
					rc.Alerts = n
				}
				return nil
			})
		if err != nil {
			return err
		}
	}
	for _, rc := range rules {
		b.r.Suspicious.TopRules = append(b.r.Suspicious.TopRules, *rc)
	}
	slices.SortFunc(b.r.Suspicious.TopRules, func(x, y RuleCount) int {
		if x.Alerts != y.Alerts {
			return cmpDesc(x.Alerts, y.Alerts)
		}
		return strings.Compare(x.Rule, y.Rule)
	})
	return b.suspiciousEvents(ctx)
}

func cmpDesc(x, y uint64) int {
	switch {
	case x > y:
		return -1
	case x < y:
		return 1
	}
	return 0
}

// statusSQL is each alert's workflow as of the end of the period: its first acknowledgement and its
// last action.
const statusSQL = `SELECT alert_id, countIf(action = 'acknowledge') AS acks, minIf(at, action = 'acknowledge') AS first_ack,
	toString(argMax(action, at)) AS status FROM %s WHERE at < {to:DateTime64(3, 'UTC')} GROUP BY alert_id`

func (b *builder) handling(ctx context.Context) error {
	sql := "SELECT a.severity, a.created, s.acks, s.first_ack, s.status FROM (SELECT id, severity, created FROM " + b.table("alerts") +
		" FINAL WHERE " + inRange + ") AS a LEFT JOIN (" + fmt.Sprintf(statusSQL, b.table("alert_actions")) + ") AS s ON a.id = s.alert_id"
	type acc struct {
		row  HandlingRow
		ttas []float64
	}
	by := map[string]*acc{}
	total := &acc{row: HandlingRow{Severity: "合計"}}
	err := b.query(ctx, b.cur, sql, func(r driver.Rows) error {
		var sev, status string
		var created, firstAck time.Time
		var acks uint64
		if err := r.Scan(&sev, &created, &acks, &firstAck, &status); err != nil {
			return err
		}
		a, ok := by[sev]
		if !ok {
			a = &acc{row: HandlingRow{Severity: sev}}
			by[sev] = a
		}
		for _, x := range []*acc{a, total} {
			x.row.Opened++
			if acks > 0 || status == "resolve" {
				x.row.Acknowledged++
			}
			if status == "resolve" {
				x.row.Resolved++
			} else {
				x.row.StillOpen++
			}
			if acks > 0 {
				x.ttas = append(x.ttas, firstAck.Sub(created).Minutes())
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	finish := func(a *acc) HandlingRow {
		sort.Float64s(a.ttas)
		if n := len(a.ttas); n > 0 {
			a.row.MedianAckMin = round1(median(a.ttas))
			a.row.MaxAckMin = round1(a.ttas[n-1])
		}
		return a.row
	}
	for _, s := range Severities {
		if a, ok := by[s]; ok {
			b.r.Handling = append(b.r.Handling, finish(a))
		} else {
			b.r.Handling = append(b.r.Handling, HandlingRow{Severity: s})
		}
	}
	b.r.Handling = append(b.r.Handling, finish(total))
	return nil
}

// median of sorted values: the mean of the middle two for an even count.
func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func round1(x float64) float64 {
	if x < 0 {
		return -round1(-x)
	}
	return float64(int64(x*10+0.5)) / 10
}

// severityOrder is ORDER BY's rank of a severity.
const severityOrder = "multiIf(severity = 'critical', 0, severity = 'high', 1, severity = 'medium', 2, severity = 'low', 3, 4)"

func (b *builder) incidents(ctx context.Context) error {
	sql := "SELECT a.id, a.rule_id, a.title_ja, a.severity, a.first_seen, a.last_seen, a.group_key, a.count, a.zones, ifNull(s.status, '') FROM (" +
		"SELECT id, rule_id, title_ja, severity, first_seen, last_seen, group_key, count, zones FROM " + b.table("alerts") + " FINAL WHERE " + inRange +
		" ORDER BY " + severityOrder + ", count DESC, first_seen, id" + fmt.Sprintf(" LIMIT %d BY rule_id LIMIT %d", b.o.PerRule, b.o.Incidents) +
		") AS a LEFT JOIN (" + fmt.Sprintf(statusSQL, b.table("alert_actions")) + ") AS s ON a.id = s.alert_id SETTINGS join_use_nulls = 1"
	err := b.query(ctx, b.cur, sql, func(r driver.Rows) error {
		var in Incident
		if err := r.Scan(&in.ID, &in.Rule, &in.Title, &in.Severity, &in.FirstSeen, &in.LastSeen, &in.Group, &in.Count, &in.Zones, &in.Status); err != nil {
			return err
		}
		if in.Status == "" {
			in.Status = "open"
		}
		loc := b.cur.from.Location()
		in.FirstSeen, in.LastSeen = in.FirstSeen.In(loc), in.LastSeen.In(loc)
		in.Description = b.describe(in)
		b.r.Incidents = append(b.r.Incidents, in)
		return nil
	})
	if err != nil {
		return err
	}
	// The join does not keep the inner ORDER BY: order again.
	slices.SortStableFunc(b.r.Incidents, func(x, y Incident) int {
		if d := severityRank(x.Severity) - severityRank(y.Severity); d != 0 {
			return d
		}
		if c := cmpDesc(x.Count, y.Count); c != 0 {
			return c
		}
		if c := x.FirstSeen.Compare(y.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return nil
}

// StatusJa names a workflow status in Japanese.
func StatusJa(s string) string {
	switch s {
	case "open":
		return "未対応"
	case "acknowledge":
		return "対応中"
	case "resolve":
		return "解決済"
	}
	return s
}

// describe is an incident's short factual description.
func (b *builder) describe(in Incident) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%sに「%s」（%s, 重要度%s）を検知。", in.FirstSeen.Format("1月2日 15:04"), in.Title, in.Rule, SeverityJa(in.Severity))
	if in.Group != "" {
		fmt.Fprintf(&sb, "対象 %s。", in.Group)
	}
	if in.Count > 0 {
		fmt.Fprintf(&sb, "該当事象 %d件", in.Count)
		if !in.LastSeen.Equal(in.FirstSeen) {
			fmt.Fprintf(&sb, "（%sまで）", in.LastSeen.Format("1月2日 15:04"))
		}
		sb.WriteString("。")
	}
	if len(in.Zones) > 0 {
		names := make([]string, len(in.Zones))
		for i, z := range in.Zones {
			names[i] = shortZone(z)
		}
		fmt.Fprintf(&sb, "関係ゾーン %s。", strings.Join(names, "・"))
	}
	fmt.Fprintf(&sb, "月末時点で%s。", StatusJa(in.Status))
	return sb.String()
}
