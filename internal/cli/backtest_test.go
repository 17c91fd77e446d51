package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// TestRulesBacktestCommand runs zonewatch rules backtest through Execute against a real ClickHouse
// holding known events: three attempts out of the mynumber zone (two on 2 November, one on 3 November,
// Japan time) and one approved flow. The default pack's ZW-CZ-001 raises one alert per attempt, on its
// day; the audit table records the backtest.
func TestRulesBacktestCommand(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	cfgPath := filepath.Join(t.TempDir(), "zonewatch.yaml")
	cfgBody := fmt.Sprintf("clickhouse:\n  addr: [%s]\n  database: %s\n", chtest.Server(t).NativeAddr(), db)
	if err := os.WriteFile(cfgPath, []byte(cfgBody), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := Execute(ctx, append([]string{"--config", cfgPath, "--log-level", "warn"}, args...), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	if out, errOut, code := run("migrate"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	err := conn.Exec(ctx, `INSERT INTO `+db+`.events (id, timestamp, ingested, observer_host, source_type, source_zone, destination_zone,
		source_ip, destination_ip, destination_port, action, outcome) VALUES
		('e1', '2026-11-02 01:00:00.000', '2026-11-02 01:00:00.300', 'fw-mynumber', 'fortigate', 'mynumber', 'lgwan', toIPv6('10.10.1.5'), toIPv6('10.20.1.8'), 445, 'deny', 'failure'),
		('e2', '2026-11-02 02:00:00.000', '2026-11-02 02:00:00.300', 'fw-mynumber', 'fortigate', 'mynumber', 'external', toIPv6('10.10.1.6'), toIPv6('203.0.113.9'), 443, 'deny', 'failure'),
		('e3', '2026-11-02 02:00:01.000', '2026-11-02 02:00:01.300', 'fw-mynumber', 'fortigate', 'mynumber', 'lgwan', toIPv6('10.10.1.6'), toIPv6('10.20.0.53'), 123, 'close', 'success'),
		('e4', '2026-11-03 04:00:00.000', '2026-11-03 04:00:00.300', 'fw-mynumber', 'fortigate', 'mynumber', 'lgwan', toIPv6('10.10.1.5'), toIPv6('10.20.1.8'), 445, 'deny', 'failure'),
		('e5', '2026-11-05 04:00:00.000', '2026-11-05 04:00:00.300', 'fw-mynumber', 'fortigate', 'mynumber', 'lgwan', toIPv6('10.10.1.5'), toIPv6('10.20.1.8'), 445, 'deny', 'failure')`)
	if err != nil {
		t.Fatal(err)
	}
	period := []string{"--from", "2026-11-02", "--to", "2026-11-04", "--dir", "../../rules/default"}

	out, errOut, code := run(append([]string{"rules", "backtest", "--rule", "ZW-CZ-001", "--rule", "ZW-ST-001", "--format", "json"}, period...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var rep struct {
		Events uint64 `json:"events"`
		Rules  []struct {
			ID     string         `json:"id"`
			Alerts int            `json:"alerts"`
			Days   map[string]int `json:"days"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, out)
	}
	got := fmt.Sprint(rep.Rules)
	if want := "[{ZW-CZ-001 3 map[2026-11-02:2 2026-11-03:1]} {ZW-ST-001 0 map[]}]"; got != want || rep.Events != 4 {
		t.Errorf("rules %s, %d events evaluated\nwant %s, 4 events (e5 is after the period)", got, rep.Events, want)
	}

	out, errOut, code = run(append([]string{"rules", "backtest"}, period...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "ZW-CZ-001  critical  3       2026-11-02:2 2026-11-03:1") || !strings.Contains(out, "RULE") {
		t.Errorf("the table has no line for ZW-CZ-001 with its days:\n%s", out)
	}

	for _, args := range [][]string{
		{"rules", "backtest", "--rule", "ZW-CZ-01", "--from", "2026-11-02", "--to", "2026-11-03", "--dir", "../../rules/default"},
		{"rules", "backtest", "--from", "2026-11-02", "--dir", "../../rules/default"},
		{"rules", "backtest", "--from", "2026-11-03", "--to", "2026-11-02", "--dir", "../../rules/default"},
		{"rules", "backtest", "--from", "2026-11-02", "--to", "2026-11-03", "--format", "xml", "--dir", "../../rules/default"},
	} {
		if out, errOut, code := run(args...); code == 0 || !strings.Contains(errOut, "zonewatch:") {
			t.Errorf("%v: exit %d, want an error\n%s%s", args, code, out, errOut)
		}
	}
	if _, errOut, _ := run("rules", "backtest", "--rule", "ZW-CZ-01", "--from", "2026-11-02", "--to", "2026-11-03", "--dir", "../../rules/default"); !strings.Contains(errOut, "did you mean ZW-CZ-001?") {
		t.Errorf("a misspelt rule id gets no suggestion: %s", errOut)
	}

	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".audit WHERE endpoint = 'cli.backtest' AND status = 200").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d audit records of successful backtests, want 2", n)
	}
}
