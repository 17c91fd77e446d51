package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
)

// Severities of rules, most severe first.
var severities = []string{"critical", "high", "medium", "low", "info"}

// alertStatuses map the query model's alertStatus to alert_actions' action.
var alertStatuses = map[string]string{"open": "open", "acknowledged": "acknowledge", "resolved": "resolve"}

// Alert is one row of the alerts table with its current workflow status.
type Alert struct {
	ID, RuleID, TitleJa, TitleEn, Severity, GroupKey, Status string
	Count                                                    uint64
	Zones                                                    []string
	FirstSeen, LastSeen, Created                             time.Time
}

// alertFilter selects alerts: those active in [From, To) (or created after Since), visible to the
// scope, of a status and severities.
type alertFilter struct {
	From, To   time.Time
	Since      time.Time // when set, alerts created at or after it instead of the range
	Hidden     []string
	Status     string // open, acknowledged, resolved; "" or all for any
	Severities []string
	Limit      int
}

const tsLayout = "2006-01-02 15:04:05.000"

// readAlerts reads the alerts table (FINAL: the latest version of each id) with the status of
// alert_status, newest first (oldest first with Since, for the stream). An alert whose zones
// include a hidden zone is not visible, as an event from such a zone is not.
func (d *Datasource) readAlerts(ctx context.Context, f alertFilter) ([]Alert, error) {
	db := d.settings.Database
	status := "if(s.alert_id = '', 'open', toString(s.status))"
	conds := []string{"NOT hasAny(a.zones, {hidden:Array(String)})"}
	args := []any{ch.Named("hidden", nonNil(f.Hidden))}
	order := "a.first_seen DESC, a.id"
	if !f.Since.IsZero() {
		conds = append(conds, "a.created >= {since:DateTime64(3, 'UTC')}")
		args = append(args, ch.Named("since", f.Since.UTC().Format(tsLayout)))
		order = "a.created, a.id"
	} else {
		conds = append(conds, "a.last_seen >= {from:DateTime64(3, 'UTC')}", "a.first_seen < {to:DateTime64(3, 'UTC')}")
		args = append(args, ch.Named("from", f.From.UTC().Format(tsLayout)), ch.Named("to", f.To.UTC().Format(tsLayout)))
	}
	if f.Status != "" && f.Status != "all" {
		action, ok := alertStatuses[f.Status]
		if !ok {
			return nil, &query.Error{Kind: query.ErrBadQuery, Msg: fmt.Sprintf("alertStatus %q: use open, acknowledged, resolved or all", f.Status)}
		}
		conds = append(conds, status+" = {status:String}")
		args = append(args, ch.Named("status", action))
	}
	if len(f.Severities) > 0 {
		for _, s := range f.Severities {
			if !slices.Contains(severities, s) {
				return nil, &query.Error{Kind: query.ErrBadQuery, Msg: fmt.Sprintf("severity %q: use %s (several separated by commas)", s, strings.Join(severities, ", "))}
			}
		}
		conds = append(conds, "a.severity IN {sev:Array(String)}")
		args = append(args, ch.Named("sev", f.Severities))
	}
	sql := "SELECT a.id, a.rule_id, a.title_ja, a.title_en, a.severity, a.group_key, a.count, a.zones, a.first_seen, a.last_seen, a.created, " + status +
		" FROM " + db + ".alerts AS a FINAL LEFT JOIN " + db + ".alert_status AS s ON s.alert_id = a.id WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY " + order + fmt.Sprintf(" LIMIT %d", f.Limit)
	rows, err := d.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, &query.Error{Kind: query.ErrInternal, Msg: "alerts: read " + db + ".alerts", Err: err}
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		if err := rows.Scan(&a.ID, &a.RuleID, &a.TitleJa, &a.TitleEn, &a.Severity, &a.GroupKey, &a.Count, &a.Zones, &a.FirstSeen, &a.LastSeen, &a.Created, &a.Status); err != nil {
			return nil, &query.Error{Kind: query.ErrInternal, Msg: "alerts: scan", Err: err}
		}
		a.Status = statusName(a.Status)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, &query.Error{Kind: query.ErrInternal, Msg: "alerts: read " + db + ".alerts", Err: err}
	}
	return out, nil
}

func statusName(action string) string {
	for k, v := range alertStatuses {
		if v == action {
			return k
		}
	}
	return action
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// alerts is a table of alerts that doubles as an annotation source: time (first seen), timeEnd
// (last seen), title, text and tags are the fields Grafana's annotations read. The group (which
// host, which user) is shown to analysts and above only, as events are.
func (d *Datasource) alerts(ctx context.Context, r *request) (data.Frames, error) {
	if strings.TrimSpace(r.m.Filter) != "" {
		return nil, &query.Error{Kind: query.ErrBadQuery, Msg: "alerts are selected by alertStatus and severity, not by an event filter: clear the filter"}
	}
	list, err := d.readAlerts(ctx, alertFilter{
		From: r.from, To: r.to, Hidden: r.id.Hidden, Status: r.m.AlertStatus,
		Severities: splitList(r.m.Severity), Limit: r.limit(500, 10000),
	})
	if err != nil {
		return nil, err
	}
	return data.Frames{alertFrame("alerts", list, r.id.Role.AtLeast(api.Analyst))}, nil
}

func alertFrame(name string, list []Alert, withGroup bool) *data.Frame {
	n := len(list)
	times, ends, created := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	sev, rule, title, text, status, zones, group, id, tags := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	counts := make([]int64, n)
	for i, a := range list {
		times[i], ends[i], created[i] = a.FirstSeen.UTC(), a.LastSeen.UTC(), a.Created.UTC()
		sev[i], rule[i], title[i], status[i], id[i] = a.Severity, a.RuleID, a.TitleJa, a.Status, a.ID
		zones[i] = strings.Join(a.Zones, ",")
		counts[i] = int64(a.Count)
		text[i] = a.TitleEn
		if withGroup {
			group[i] = a.GroupKey
			if a.GroupKey != "" {
				text[i] += " (" + a.GroupKey + ")"
			}
		}
		tags[i] = strings.Join([]string{a.Severity, a.RuleID, a.Status}, ",")
	}
	frame := data.NewFrame(name,
		data.NewField("time", nil, times),
		data.NewField("timeEnd", nil, ends),
		data.NewField("severity", nil, sev),
		data.NewField("rule", nil, rule),
		data.NewField("title", nil, title),
		data.NewField("text", nil, text),
		data.NewField("status", nil, status),
		data.NewField("zones", nil, zones),
		data.NewField("count", nil, counts).SetConfig(&data.FieldConfig{Unit: "short"}),
		data.NewField("group", nil, group),
		data.NewField("id", nil, id),
		data.NewField("created", nil, created),
		data.NewField("tags", nil, tags),
	)
	return frame
}
