package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/dashboards/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// smallReport is a hand-made model: what the renderers make of it needs no database.
func smallReport() *report.Report {
	from, to, _ := report.MonthRange("2026-11")
	return &report.Report{
		Title: "月次監視報告 2026年11月", Organisation: "試験消防組合", Marking: "機密性2", Month: "2026-11", PrevMonth: "2026-10",
		From: from, To: to, Generated: to.Add(-time.Second),
		Summary: report.Summary{Events: 1234567, PrevEvents: 1200000, Denied: 4321, PrevDenied: 0, Alerts: 12, PrevAlerts: 15,
			SourcesExpected: 3, SourcesReporting: 2, SilentHours: 722, HoursInMonth: 720, CoveragePercent: 66.6},
		Coverage: []report.SourceCoverage{{Host: "fw-lgwan", Type: "fortigate", Listener: "syslog-tcp", Events: 1000, PrevEvents: 990, HoursReporting: 718, SilentHours: 2, LongestGap: 2, Expected: true, Reporting: true},
			{Host: "mn-app01", Type: "iptables", Listener: "syslog-tcp", Events: 50, HoursReporting: 40, SilentHours: 680, LongestGap: 100, MaxSkewSeconds: 150, Reporting: true}},
		Zones: []report.ZoneSummary{{Zone: "mynumber", NameJa: "マイナンバー利用事務系", PolicyItem: "§6 (3) ア", Events: 10, PrevEvents: 8, Denied: 3,
			Alerts: map[string]uint64{"critical": 2}, AlertTotal: 2}},
		Daily:      []report.DayZones{{Day: "2026-11-01", Events: map[string]uint64{"mynumber": 1, "lgwan": 2, "internet": 3}, Denied: 1, Alerts: 1}},
		MatrixZone: []string{"mynumber", "lgwan"},
		Matrix:     []report.ZoneCell{{Source: "mynumber", Destination: "lgwan", Events: 3, Denied: 3, Forbidden: true}},
		CrossZone: []report.CrossZonePair{{Source: "mynumber", Destination: "lgwan", PolicyItem: "ア", Events: 3, Denied: 2, Allowed: 1, Sources: 1,
			TopSources: []report.KeyCount{{Key: "10.10.1.5", Count: 3}}}},
		OffHours: report.OffHoursSection{Filter: report.FilterUsers, Calendars: []report.CalendarInfo{{Name: "office", Kind: "office", Hours: "平日 08:30–17:15", Users: 1}},
			Groups:   []report.OffHoursGroup{{Name: "日勤", Calendar: "office", Users: 1, Events: 10, OffHours: 2, OffHoursUsers: 1}},
			Classes:  []report.OffHoursGroup{{Name: "日勤職員", Users: 1, Events: 10, OffHours: 2, OffHoursUsers: 1}},
			TopUsers: []report.OffHoursUser{{User: "sato.k", Group: "日勤", Events: 10, OffHours: 2}}, Unmapped: report.OffHoursGroup{Name: "（カレンダー未設定）"}},
		Suspicious: report.SuspiciousSection{TopRules: []report.RuleCount{{Rule: "ZW-CZ-001", Title: "マイナンバー利用事務系から他ゾーンへの通信試行", Severity: "critical", Alerts: 2, PrevAlert: 0}},
			TopSources: []report.SourceCount{{Address: "203.0.113.9", Zone: "external", Denied: 40}},
			Categories: []report.CategoryCount{{Category: "malware", Events: 3, Blocked: 3}}},
		Handling: []report.HandlingRow{{Severity: "critical", Opened: 2, Acknowledged: 1, Resolved: 1, StillOpen: 1, MedianAckMin: 12.5, MaxAckMin: 12.5}},
		Incidents: []report.Incident{{ID: "a1", Rule: "ZW-CZ-001", Title: "マイナンバー利用事務系から他ゾーンへの通信試行", Severity: "critical",
			FirstSeen: from.Add(10 * time.Hour), LastSeen: from.Add(10 * time.Hour), Count: 1, Status: "resolve", Description: "11月1日 10:00に検知。"}},
		Decisions: []report.Decision{{Kind: "exception", Ref: "approved_mynumber_destinations", Text: "例外の利用 1件, \"NTP\"", Figure: 1}},
		Queries:   []report.QueryRef{{ID: "denied", What: "遮断・失敗", Filter: report.FilterDenied, Range: "month"}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dashboards/report -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking the change):\n%s", name, got)
	}
}

// TestGoldenTables: every table of a known model as CSV, in the report's order.
func TestGoldenTables(t *testing.T) {
	var all bytes.Buffer
	for _, tb := range smallReport().Tables() {
		all.WriteString("## " + tb.ID + " " + tb.Title + "\n")
		if err := report.RenderCSV(&all, tb); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "tables.golden", bytes.ReplaceAll(all.Bytes(), []byte("\uFEFF"), nil))
}

// TestPDFDeterministic renders a known model twice without a database.
func TestPDFDeterministic(t *testing.T) {
	r := smallReport()
	a, b := renderPDF(t, r), renderPDF(t, r)
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same report differ")
	}
	if !bytes.Contains(a, []byte("D:20261130")) {
		t.Error("the PDF's creation date is not the end of the month")
	}
}
