package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/query/api"
)

var updateQueryGolden = flag.Bool("update-query", false, "rewrite testdata/query/*.golden")

// TestQueryCommand runs zonewatch query through Execute against a real ClickHouse holding known
// events, and compares what it prints with golden files; then checks the audit rows it left.
func TestQueryCommand(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "zonewatch.yaml")
	cfgBody := fmt.Sprintf("clickhouse:\n  addr: [%s]\n  database: %s\nrules:\n  dir: ../../rules/default\n", chtest.Server(t).NativeAddr(), db)
	if err := os.WriteFile(cfgPath, []byte(cfgBody), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := Execute(ctx, []string{"--config", cfgPath, "--log-level", "warn", "migrate"}, &out, &errOut); code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	// Five events: four on 2 November (Japan time), one the day after.
	err := conn.Exec(ctx, `INSERT INTO `+db+`.events (id, timestamp, source_type, source_zone, destination_zone, source_ip, destination_ip,
		destination_port, action, outcome, user_name, url_domain, message_template) VALUES
		('e1', '2026-11-02 01:00:00.000', 'fortigate', 'mynumber', 'lgwan', toIPv6('10.10.1.5'), toIPv6('10.20.1.8'), 445, 'deny', 'failure', 'tanaka', '', 'smb denied'),
		('e2', '2026-11-02 02:00:00.000', 'fortigate', 'mynumber', 'internet', toIPv6('10.10.1.6'), toIPv6('203.0.113.9'), 443, 'deny', 'failure', 'sato', 'evil.example', 'line one\nline two'),
		('e3', '2026-11-02 03:00:00.000', 'squid', 'lgwan', 'internet', toIPv6('10.20.1.7'), toIPv6('2001:db8::1'), 443, 'allow', 'success', 'tanaka', 'www.example.jp', 'it''s "quoted", with a comma'),
		('e4', '2026-11-02 04:00:00.000', 'sshd', 'lgwan', 'lgwan', toIPv6('10.20.1.7'), toIPv6('10.20.1.9'), 22, 'login', 'success', '佐藤', '', 'ログイン成功'),
		('e5', '2026-11-03 04:00:00.000', 'fortigate', 'mynumber', 'lgwan', toIPv6('10.10.1.5'), toIPv6('10.20.1.8'), 445, 'deny', 'failure', 'tanaka', '', 'next day')`)
	if err != nil {
		t.Fatal(err)
	}
	day := []string{"--from", "2026-11-02", "--to", "2026-11-03"} // Japan time
	fromMynumber := `source.zone == "mynumber" and destination.zone != "mynumber"`
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"table", append([]string{"query", fromMynumber}, day...), 0},
		{"csv", append([]string{"query", fromMynumber, "--format", "csv", "--fields", "id,user.name,message,destination.ip"}, day...), 0},
		{"json", append([]string{"query", `user.name == "tanaka"`, "-o", "json"}, day...), 0},
		{"aggregate", append([]string{"query", "--group-by", "source.zone", "--agg", "count", "--agg", "count_distinct:user.name"}, day...), 0},
		{"aggregate-csv", append([]string{"query", `event.outcome == "success"`, "--group-by", "user.name", "--format", "csv"}, day...), 0},
		{"limit", append([]string{"query", "--limit", "2", "--fields", "id"}, day...), 0},
		{"utc-range", []string{"query", "--fields", "id,timestamp", "--from", "2026-11-02T02:00:00Z", "--to", "2026-11-03T04:00:00Z"}, 0},
		{"macro", append([]string{"query", "from_mynumber and destination.port == 445", "--fields", "id,source.zone"}, day...), 0},
		{"bad-field", append([]string{"query", "user.name == \"佐藤\" and\n  sourse.ip == \"10.20.1.7\""}, day...), 1},
		{"bad-syntax", append([]string{"query", `user.name == `}, day...), 1},
		{"bad-format", []string{"query", "--format", "xml"}, 1},
		{"bad-time", []string{"query", "--from", "yesterday"}, 1},
		{"agg-without-group", []string{"query", "--agg", "count"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Execute(ctx, append([]string{"--config", cfgPath, "--log-level", "warn"}, tc.args...), &out, &errOut)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out.String(), errOut.String())
			}
			got := "# stdout\n" + out.String() + "# stderr\n" + errOut.String()
			golden := filepath.Join("testdata", "query", tc.name+".golden")
			if *updateQueryGolden {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -run TestQueryCommand -update-query to write it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
	// Every query that reached the engine was audited as cli:<user>, with its rows or its error.
	rows, err := conn.Query(ctx, "SELECT principal, endpoint, rows, status FROM "+db+".audit ORDER BY time, request_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var audited []string
	for rows.Next() {
		var who, endpoint string
		var n uint64
		var status uint16
		if err := rows.Scan(&who, &endpoint, &n, &status); err != nil {
			t.Fatal(err)
		}
		if who != cliUser() || !strings.HasPrefix(who, "cli:") {
			t.Errorf("audit principal %q, want %q", who, cliUser())
		}
		audited = append(audited, fmt.Sprintf("%s:%d:%d", endpoint, n, status))
	}
	want := "[cli.search:2:200 cli.search:2:200 cli.search:2:200 cli.aggregate:2:200 cli.aggregate:2:200 cli.search:2:200 cli.search:3:200 cli.search:1:200 cli.search:0:400 cli.search:0:400]"
	if fmt.Sprint(audited) != want {
		t.Errorf("audit rows\n%v\nwant\n%s", audited, want)
	}
}

func TestCaretPad(t *testing.T) {
	for _, tc := range []struct {
		line   string
		column int
		want   string
	}{
		{"abc", 1, ""},
		{"abc", 3, "  "},
		{"\tab", 3, "\t "},
		{`"佐藤" x`, 6, "       "}, // quote, two wide characters (two columns each), quote, space
	} {
		if got := caretPad(tc.line, tc.column); got != tc.want {
			t.Errorf("caretPad(%q, %d) = %q, want %q", tc.line, tc.column, got, tc.want)
		}
	}
}

// TestServeAPIListsLoadedRules checks that serve gives the API its rules stage's rules: the default
// pack's rules are listed as enabled before any of them raised an alert.
func TestServeAPIListsLoadedRules(t *testing.T) {
	_, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	tok, hash := api.NewToken()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte(hash+" soc viewer *\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, dir, db)
	cfg.API.TokensFile = tokens
	info, stop := startServe(t, cfg, dir)
	defer stop()
	req, _ := http.NewRequest("GET", "http://"+info.API+"/api/v1/rules", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Loaded bool `json:"loaded"`
		Rules  []struct {
			RuleID, Status string
			Alerts         int
		} `json:"rules"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/rules: %d %v", resp.StatusCode, err)
	}
	enabled := 0
	for _, r := range body.Rules {
		if r.Status == "enabled" {
			enabled++
		}
	}
	if !body.Loaded || enabled < 5 {
		t.Errorf("rules: loaded %v, %d enabled of %d: want the default pack's rules", body.Loaded, enabled, len(body.Rules))
	}
}
