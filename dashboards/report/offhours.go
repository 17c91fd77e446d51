package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/query"
)

// Off-hours is decided per account by its own calendar (an office worker at 03:00 is off-hours, a
// shift crew on its duty night is not): the engine counts each account's events per quarter hour and
// asks the account's calendar about each quarter hour.

func (b *builder) offHours(ctx context.Context) error {
	s := &b.r.OffHours
	s.Filter = FilterUsers
	s.Groups, s.Classes, s.TopUsers, s.Calendars = []OffHoursGroup{}, []OffHoursGroup{}, []OffHoursUser{}, []CalendarInfo{}
	s.Unmapped = OffHoursGroup{Name: "（カレンダー未設定）"}
	acct := func(user string) (Account, bool) {
		if b.o.Accounts == nil || b.o.Calendars == nil {
			return Account{}, false
		}
		a, ok := b.o.Accounts(user)
		if !ok || a.Calendar == "" {
			return Account{}, false
		}
		_, ok = b.o.Calendars.Get(a.Calendar)
		return a, ok
	}
	isOff := func(user string, t time.Time) (bool, error) {
		a, ok := acct(user)
		if !ok {
			return false, nil
		}
		c, _ := b.o.Calendars.Get(a.Calendar)
		return c.OffHours(t), nil
	}
	rows, err := b.o.Engine.OffHours(ctx, query.Query{From: b.cur.from, To: b.cur.to, Filter: FilterUsers}, "user.name", isOff)
	if err != nil {
		return fmt.Errorf("filter %q: %w", FilterUsers, err)
	}
	groups, classes := map[string]*OffHoursGroup{}, map[string]*OffHoursGroup{}
	cals := map[string]int{}
	add := func(m map[string]*OffHoursGroup, name, cal string, r query.OffHoursRow) {
		g, ok := m[name]
		if !ok {
			g = &OffHoursGroup{Name: name, Calendar: cal}
			m[name] = g
		}
		addRow(g, r)
	}
	for _, r := range rows {
		a, ok := acct(r.Key)
		if !ok {
			addRow(&s.Unmapped, r)
			continue
		}
		add(groups, a.Group, a.Calendar, r)
		add(classes, a.Class, "", r)
		cals[a.Calendar]++
		if r.OffHours > 0 {
			s.TopUsers = append(s.TopUsers, OffHoursUser{User: r.Key, Group: a.Group, Events: r.Events, OffHours: r.OffHours})
		}
	}
	s.Groups, s.Classes = sortedGroups(groups), sortedGroups(classes)
	slices.SortFunc(s.TopUsers, func(x, y OffHoursUser) int {
		if c := cmpDesc(x.OffHours, y.OffHours); c != 0 {
			return c
		}
		return strings.Compare(x.User, y.User)
	})
	s.TopUsers = s.TopUsers[:min(len(s.TopUsers), 10)]
	for _, name := range sortedKeys(cals) {
		c, _ := b.o.Calendars.Get(name)
		s.Calendars = append(s.Calendars, CalendarInfo{Name: name, Kind: c.Kind(), Hours: b.o.CalendarHours[name], Users: cals[name]})
	}
	b.addQuery("off_hours", "時間外の利用（利用者ごと15分単位、各利用者のカレンダーで判定）", FilterUsers, "user.name, 15m", "month")
	return b.query(ctx, b.cur, "SELECT count() FROM "+b.table("alerts")+" FINAL WHERE "+inRange+" AND startsWith(rule_id, 'ZW-OH-')",
		func(r driver.Rows) error { return r.Scan(&s.Alerts) })
}

func addRow(g *OffHoursGroup, r query.OffHoursRow) {
	g.Users++
	g.Events += r.Events
	g.OffHours += r.OffHours
	if r.OffHours > 0 {
		g.OffHoursUsers++
	}
}

func sortedGroups(m map[string]*OffHoursGroup) []OffHoursGroup {
	out := []OffHoursGroup{}
	for _, k := range sortedKeys(m) {
		out = append(out, *m[k])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// DescribeCalendar says in Japanese when a calendar is on duty.
func DescribeCalendar(spec calendar.CalendarSpec) string {
	switch spec.Kind {
	case calendar.KindOffice:
		days := "平日"
		if len(spec.Weekdays) > 0 {
			days = strings.Join(spec.Weekdays, "・")
		}
		s := fmt.Sprintf("%s %s–%s", days, spec.Start, spec.End)
		if !spec.IgnoreHolidays {
			s += "（祝日・年末年始を除く）"
		}
		return s
	case calendar.KindShift:
		return fmt.Sprintf("%d部制 第%d部 %s交替の24時間勤務（起算日 %s）", spec.Platoons, spec.Platoon+1, spec.Start, spec.RotationStart)
	case calendar.KindAlways:
		return "24時間"
	}
	return spec.Kind
}
