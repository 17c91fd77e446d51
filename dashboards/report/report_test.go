package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/dashboards/report"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/fromrules"
)

// fixture is a simulated October and November 2026 (JST) in one database.
type fixture struct {
	conn driver.Conn
	db   string
	data *simData
	opts report.Options
}

const month = "2026-11"

func newFixture(t *testing.T, rate float64) *fixture {
	t.Helper()
	conn, db := chtest.NewDatabase(t)
	migrate(t, conn, db)
	from, _, _ := report.MonthRange("2026-10")
	_, to, _ := report.MonthRange(month)
	start := time.Now()
	d := loadSimulated(t, conn, db, from, to, rate)
	insertActions(t, conn, db, d.stored)
	t.Logf("simulated %s to %s: %d events, %d alerts, %d lines dead-lettered, in %s", from, to, d.events, len(d.alerts), d.dead, time.Since(start).Round(time.Millisecond))
	eng, err := query.New(query.Options{Conn: conn, Database: db, Sources: []query.Source{query.EventsHourly},
		Lists: fromrules.Lists(d.rules), Limits: query.Limits{MaxScanRows: 2_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{conn: conn, db: db, data: d, opts: simOptions(d, eng, conn, db)}
}

// simOptions are the report's options for the simulated organisation.
func simOptions(d *simData, eng *query.Engine, conn driver.Conn, db string) report.Options {
	org := d.org
	labels := map[string]string{}
	for _, g := range org.Groups {
		labels[g.Name] = g.Label
	}
	accounts := map[string]report.Account{}
	for _, u := range org.Users() {
		accounts[u.Name] = report.Account{Group: labels[u.Group], Class: classOf(u.Group), Calendar: u.Calendar}
	}
	hours := map[string]string{}
	for name, spec := range org.Calendars {
		hours[name] = report.DescribeCalendar(spec)
	}
	return report.Options{
		Engine: eng, Conn: conn, Database: db, Month: month, Organisation: org.Name,
		ExpectedSources: []string{"fw-mynumber", "fw-lgwan", "fw-internet", "proxy-sq2"},
		Calendars:       org.CalendarSet(), CalendarHours: hours,
		Accounts:      func(u string) (report.Account, bool) { a, ok := accounts[u]; return a, ok },
		ProxyHosts:    proxyHosts(org),
		MailHosts:     []string{"in-mail01"},
		ApprovedLists: report.ApprovedLists{Destinations: "approved_mynumber_destinations", Sources: "approved_mynumber_sources"},
	}
}

func classOf(group string) string {
	switch {
	case strings.HasPrefix(group, "shift-"):
		return "交替制職員"
	case group == "admins":
		return "情報管理者"
	case group == "contractors":
		return "保守委託事業者"
	}
	return "日勤職員"
}

// TestReport generates the report for a simulated November 2026 (with October to compare), checks
// every figure against independent counts, and renders it in every format.
func TestReport(t *testing.T) {
	f := newFixture(t, 0.03)
	start := time.Now()
	r, err := report.Build(t.Context(), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report built in %s", time.Since(start).Round(time.Millisecond))
	c := newChecker(t, f, r)
	for _, s := range []struct {
		name string
		fn   func()
	}{
		{"summary", c.summary}, {"coverage", c.coverage}, {"zones", c.zones}, {"daily", c.daily},
		{"matrix", c.matrix}, {"cross-zone", c.crossZone}, {"off-hours", c.offHours},
		{"suspicious", c.suspicious}, {"handling", c.handling}, {"incidents", c.incidents}, {"decisions", c.decisions},
	} {
		t.Run(s.name, func(t *testing.T) { c.t = t; s.fn() })
	}
	c.t = t
	t.Run("deterministic", func(t *testing.T) {
		again, err := report.Build(t.Context(), f.opts)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Error("two builds of the same month differ")
		}
		p1, p2 := renderPDF(t, r), renderPDF(t, again)
		if !bytes.Equal(p1, p2) {
			t.Error("two PDFs of the same report differ")
		}
	})
	dir := t.TempDir()
	if out := os.Getenv("ZW_REPORT_OUT"); out != "" {
		dir = out // to look at the result: ZW_REPORT_OUT=/some/dir go test -run TestReport ./dashboards/report
	}
	paths, err := report.Write(r, report.WriteOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d files to %s", len(paths), dir)
	t.Run("pdf", func(t *testing.T) { checkPDF(t, r, filepath.Join(dir, "zonewatch-report-"+month+".pdf")) })
	t.Run("html", func(t *testing.T) { checkHTML(t, r, filepath.Join(dir, "zonewatch-report-"+month+".html")) })
	t.Run("csv", func(t *testing.T) { checkCSV(t, r, filepath.Join(dir, "csv-"+month)) })
	t.Run("xlsx", func(t *testing.T) { checkXLSX(t, r, filepath.Join(dir, "zonewatch-report-"+month+".xlsx")) })
}
