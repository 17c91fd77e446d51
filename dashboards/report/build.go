package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/query"
)

// Options configure Build.
type Options struct {
	// Engine reads the events (query.New with the events_hourly rollup in Sources is fastest); required.
	Engine *query.Engine
	// Conn and Database read the alerts, alert_actions and source_health_hourly tables; required.
	Conn     driver.Conn
	Database string
	// Month is the reported month, YYYY-MM (Asia/Tokyo).
	Month string
	// Organisation and Marking head every page; Marking defaults to "機密性2".
	Organisation string
	Marking      string
	// ExpectedSources are observer hosts that must send logs (the rules' expected_log_sources list).
	ExpectedSources []string
	// Calendars and Accounts decide off-hours: Accounts names each user's group, class and calendar.
	// Without them the off-hours section lists every account as unmapped.
	Calendars *calendar.Set
	Accounts  func(user string) (Account, bool)
	// CalendarHours describes each calendar's duty hours for the report (see DescribeCalendar).
	CalendarHours map[string]string
	// ProxyHosts are the named hosts (source.host) of the security cloud proxy: their own traffic out
	// of the internet zone is no bypass.
	ProxyHosts []string
	// MailHosts are the internet zone's mail servers (source.host), whose SMTP delivery is no bypass.
	MailHosts []string
	// ApprovedLists are the ip lists of approved mynumber flows known to the engine (in_list), whose use
	// is reported as exceptions in use; names absent from the engine's lists are skipped.
	ApprovedLists ApprovedLists
	// NoisyRule is the number of alerts in a month above which a rule is put to the committee (100).
	NoisyRule uint64
	// GapHours is the silence, in hours, that puts a source to the committee (24).
	GapHours int
	// Logger receives the time each section took (debug); default discards.
	Logger *slog.Logger
	// Incidents is the number of notable incidents listed (10), at most PerRule of one rule (2).
	Incidents, PerRule int
}

// Account is what the report knows of a user name.
type Account struct {
	Group    string // e.g. 当務1部
	Class    string // e.g. 交替制職員
	Calendar string // a calendar of Options.Calendars
}

// ApprovedLists name the exception lists of the mynumber rules.
type ApprovedLists struct {
	Destinations string // approved_mynumber_destinations
	Sources      string // approved_mynumber_sources
}

func (o Options) withDefaults() (Options, error) {
	if o.Engine == nil || o.Conn == nil {
		return o, errors.New("report: Options.Engine and Options.Conn are required")
	}
	if o.Database == "" {
		o.Database = "zonewatch"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Marking == "" {
		o.Marking = "機密性2"
	}
	if o.NoisyRule == 0 {
		o.NoisyRule = 100
	}
	if o.GapHours == 0 {
		o.GapHours = 24
	}
	if o.Incidents == 0 {
		o.Incidents = 10
	}
	if o.PerRule == 0 {
		o.PerRule = 2
	}
	return o, nil
}

// MonthRange returns [from, to) of a YYYY-MM month in Asia/Tokyo.
func MonthRange(month string) (from, to time.Time, err error) {
	t, err := time.ParseInLocation("2006-01", month, calendar.Tokyo())
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("month %q: want YYYY-MM, e.g. 2026-11", month)
	}
	return t, t.AddDate(0, 1, 0), nil
}

// period is a month being read.
type period struct {
	from, to time.Time
}

func (p period) hours() int { return int(p.to.Sub(p.from) / time.Hour) }

// builder carries the options and the two months through the sections.
type builder struct {
	o         Options
	cur, prev period
	r         *Report
}

// Build reads the month's figures and returns the report.
func Build(ctx context.Context, o Options) (*Report, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	from, to, err := MonthRange(o.Month)
	if err != nil {
		return nil, err
	}
	pfrom := from.AddDate(0, -1, 0)
	b := &builder{o: o, cur: period{from, to}, prev: period{pfrom, from}}
	b.r = &Report{
		Title:        fmt.Sprintf("月次監視報告 %d年%d月", from.Year(), int(from.Month())),
		Organisation: o.Organisation, Marking: o.Marking,
		Month: o.Month, PrevMonth: pfrom.Format("2006-01"),
		From: from, To: to, Generated: to.Add(-time.Second),
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"summary", b.summary},
		{"coverage", b.coverage},
		{"zones", b.zones},
		{"daily", b.daily},
		{"zone pairs", b.matrix},
		{"cross-zone attempts", b.crossZone},
		{"off-hours", b.offHours},
		{"suspicious traffic", b.suspicious},
		{"alert handling", b.handling},
		{"incidents", b.incidents},
		{"decisions", b.decisions},
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			return nil, fmt.Errorf("report %s: %s: %w", o.Month, s.name, err)
		}
		o.Logger.Debug("report section", "section", s.name, "took", time.Since(start))
	}
	return b.r, nil
}

// Zones are the three zones of the policy, in the policy's order.
var Zones = []ZoneSummary{
	{Zone: "mynumber", NameJa: "マイナンバー利用事務系", PolicyItem: "§6 (3) ア",
		PolicyText: "原則として他の領域との通信をできないようにし、住民情報の流出を防ぐ"},
	{Zone: "lgwan", NameJa: "LGWAN接続系", PolicyItem: "§6 (3) イ",
		PolicyText: "インターネット接続系との通信経路を分割し、通信する場合は無害化通信とする"},
	{Zone: "internet", NameJa: "インターネット接続系", PolicyItem: "§6 (3) ウ",
		PolicyText: "不正通信の監視を強化し、自治体情報セキュリティクラウドに通信を集約する"},
}

// Severities in decreasing order.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// SeverityJa names a severity in Japanese.
func SeverityJa(s string) string {
	switch s {
	case "critical":
		return "緊急"
	case "high":
		return "高"
	case "medium":
		return "中"
	case "low":
		return "低"
	case "info":
		return "情報"
	}
	return s
}

func severityRank(s string) int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return len(Severities)
}

func (b *builder) addQuery(id, what, filter, groupBy, rng string) {
	b.r.Queries = append(b.r.Queries, QueryRef{ID: id, What: what, Filter: filter, GroupBy: groupBy, Range: rng})
}

// aggregate runs an Aggregate over a period.
func (b *builder) aggregate(ctx context.Context, p period, q query.Query) (*query.Result, error) {
	q.From, q.To = p.from, p.to
	all := q.Limit == 0 // a top-n query is cut at its limit on purpose; the others must be whole
	if all {
		q.Limit = b.o.Engine.Limits().MaxRows
	}
	res, err := b.o.Engine.Aggregate(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", q.Filter, err)
	}
	if all && res.Truncated {
		return nil, fmt.Errorf("filter %q grouped by %v: more than %d rows: raise the engine's MaxRows", q.Filter, q.GroupBy, q.Limit)
	}
	return res, nil
}

func u64(v any) uint64 {
	switch x := v.(type) {
	case uint64:
		return x
	case int64:
		return uint64(x)
	case uint32:
		return uint64(x)
	case int:
		return uint64(x)
	}
	return 0
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
