package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/dashboards/report"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// TestReportCommand runs zonewatch report through Execute against a real ClickHouse with the default
// rule pack, and reads back what it wrote.
func TestReportCommand(t *testing.T) {
	if _, err := report.FindFont(""); err != nil {
		if chtest.InCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	rulesDir, _ := filepath.Abs(filepath.Join("..", "..", "rules", "default"))
	cfgPath := filepath.Join(dir, "zonewatch.yaml")
	cfgBody := fmt.Sprintf("clickhouse:\n  addr: [%s]\n  database: %s\nrules:\n  dir: %s\n", chtest.Server(t).NativeAddr(), db, rulesDir)
	if err := os.WriteFile(cfgPath, []byte(cfgBody), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Execute(ctx, append([]string{"--config", cfgPath, "--log-level", "warn"}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := run("migrate"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	// November 2026 in Japan time: three attempts out of mynumber (one to an approved destination), a
	// Saturday-night sign-in by an office account, and one alert acknowledged after 30 minutes.
	err := conn.Exec(ctx, `INSERT INTO `+db+`.events (id, timestamp, ingested, observer_host, source_type, listener, parse_status, category, source_zone, destination_zone,
		source_ip, destination_ip, destination_port, action, outcome, user_name) VALUES
		('e1', '2026-11-02 01:00:00.000', '2026-11-02 01:00:01.000', 'fw-mynumber', 'fortigate', 'syslog-tcp', 'ok', 'network', 'mynumber', 'lgwan', toIPv6('10.10.1.5'), toIPv6('10.20.1.8'), 445, 'deny', 'failure', ''),
		('e2', '2026-11-02 02:00:00.000', '2026-11-02 02:00:01.000', 'fw-mynumber', 'fortigate', 'syslog-tcp', 'ok', 'network', 'mynumber', 'internet', toIPv6('10.10.1.6'), toIPv6('10.30.1.9'), 443, 'close', 'success', ''),
		('e3', '2026-11-02 03:00:00.000', '2026-11-02 03:00:01.000', 'fw-mynumber', 'fortigate', 'syslog-tcp', 'ok', 'network', 'mynumber', 'lgwan', toIPv6('10.10.1.6'), toIPv6('10.20.0.53'), 123, 'close', 'success', ''),
		('e4', '2026-11-07 13:00:00.000', '2026-11-07 13:00:01.000', 'lg-app01', 'sshd', 'syslog-tcp', 'ok', 'authentication', 'lgwan', '', toIPv6('10.20.2.5'), toIPv6('10.20.0.40'), 22, 'logged-in', 'success', 'sato.office')`)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, `INSERT INTO `+db+`.alerts (id, rule_id, title_ja, severity, zones, first_seen, last_seen, count, created) VALUES
		('a1', 'ZW-CZ-001', 'マイナンバー利用事務系から他ゾーンへの通信試行', 'critical', ['mynumber', 'lgwan'], '2026-11-02 01:00:00.000', '2026-11-02 01:00:00.000', 1, '2026-11-02 01:00:02.000')`); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, `INSERT INTO `+db+`.alert_actions (alert_id, action, who, at) VALUES ('a1', 'acknowledge', 'soc', '2026-11-02 01:30:02.000')`); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run("report", "--month", "2026-11", "--out", out, "--org", "試験消防組合")
	if code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"zonewatch-report-2026-11.pdf", "zonewatch-report-2026-11.html", "zonewatch-report-2026-11.xlsx", "csv-2026-11/03_cross_zone.csv"} {
		if !strings.Contains(stdout, filepath.Join(out, f)) {
			t.Errorf("report did not list %s:\n%s", f, stdout)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cross := read("csv-2026-11/03_cross_zone.csv")
	// The NTP flow to 10.20.0.53 is on the approved list: two attempts, one blocked, one through.
	for _, want := range []string{"マイナンバー,LGWAN,ア,1,1,0,1,10.10.1.5 (1),0,全件遮断", "マイナンバー,インターネット,ア,1,0,1,1,10.10.1.6 (1),0,通過あり"} {
		if !strings.Contains(cross, want) {
			t.Errorf("03_cross_zone.csv lacks %q:\n%s", want, cross)
		}
	}
	if h := read("csv-2026-11/06_handling.csv"); !strings.Contains(h, "緊急,1,1,0,1,30.0,30.0") {
		t.Errorf("06_handling.csv: the critical alert acknowledged after 30 minutes is missing:\n%s", h)
	}
	if g := read("csv-2026-11/04_off_hours_groups.csv"); !strings.Contains(g, "office,office,1,1,1,1") {
		t.Errorf("04_off_hours_groups.csv: sato.office's Saturday sign-in (office calendar of the rule pack) is missing:\n%s", g)
	}
	if d := read("csv-2026-11/08_decisions.csv"); !strings.Contains(d, "approved_mynumber_destinations") || !strings.Contains(d, "途絶した送信元") {
		t.Errorf("08_decisions.csv: want the approved NTP exception in use and the expected sources (expected_log_sources) that sent nothing:\n%s", d)
	}
	var audited uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".audit WHERE endpoint = 'cli.report' AND status = 200").Scan(&audited); err != nil || audited != 1 {
		t.Errorf("audit rows of the report: %d (%v), want 1", audited, err)
	}
	if code, _, stderr := run("report", "--month", "2026/11", "--out", out); code == 0 || !strings.Contains(stderr, "YYYY-MM") {
		t.Errorf("a bad month: exit %d, %q; want an error asking for YYYY-MM", code, stderr)
	}
	if code, _, stderr := run("report", "--month", "2026-11", "--out", out, "--font", "/nonexistent.ttf"); code == 0 || !strings.Contains(stderr, "/nonexistent.ttf") {
		t.Errorf("a missing font: exit %d, %q; want an error naming it", code, stderr)
	}
}
