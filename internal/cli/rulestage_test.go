package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/rules/notify"
)

const stageRules = `
rules:
  - id: LOCAL-001
    title: {ja: マイナンバー系からの通信, en: Traffic out of mynumber}
    severity: critical
    condition: source.zone == "mynumber" and event.module == "fortigate"
`

const stageRulesSSH = `
rules:
  - id: LOCAL-002
    title: {ja: SSH 認証失敗, en: SSH failure}
    severity: high
    condition: event.module == "sshd"
`

// TestServeRulesReloadAndNotify: serve's rules stage sends its alerts to a webhook receiver, takes a
// rule added to its directory without a restart, and refuses a broken rule set (counted in /metrics)
// while the rules in force keep firing and notifying.
func TestServeRulesReloadAndNotify(t *testing.T) {
	var mu sync.Mutex
	var got []notify.Message
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("webhook request: %v, Authorization %q", err, r.Header.Get("Authorization"))
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()
	notified := func() string {
		mu.Lock()
		defer mu.Unlock()
		var ids []string
		for _, m := range got {
			ids = append(ids, m.Alert.RuleID)
		}
		return strings.Join(ids, " ")
	}

	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules")
	writeRuleFile(t, rulesDir, "local.yaml", stageRules)
	cfg := testConfig(t, dir, db)
	cfg.Rules.Dir = rulesDir
	cfg.Notify = config.Notify{
		Receivers: []config.NotifyReceiver{{Name: "soc", Webhook: &config.NotifyWebhook{URL: hook.URL, BearerToken: "tok"}}},
		Routes:    []config.NotifyRoute{{Match: config.NotifyMatch{MinSeverity: "high"}, Receivers: []string{"soc"}}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	info, stop := startServe(t, cfg, dir)
	defer stop()
	send := func(line string) {
		t.Helper()
		c, err := net.Dial("tcp", info.Listeners["syslog-tcp/tcp"])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "<134>1 %s fw-mynumber %s - - - %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"), map[bool]string{true: "sshd", false: "fortigate"}[strings.HasPrefix(line, "Failed")], line); err != nil {
			t.Fatal(err)
		}
	}
	// The device's own time is the event's: a different second for each, or the alerts share an id.
	fw := func(sec int) string {
		return fmt.Sprintf(`date=2026-11-02 time=09:15:%02d devname="fw-mynumber" logid="0000000013" type="traffic" subtype="forward" srcip=10.10.1.5 srcport=50123 dstip=10.20.1.8 dstport=445 proto=6 action="deny" policyid=0`, sec)
	}
	ssh := "Failed password for invalid user admin from 10.30.1.9 port 4444 ssh2"
	// Lines on different subjects may reach the rules in either order (ingest batches per subject), so the
	// notifications are compared as a multiset: which alerts, how many of each.
	wait := func(what, want string) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if sortedWords(notified()) == sortedWords(want) {
				return
			}
		}
		var events []string
		rows, err := conn.Query(context.Background(), "SELECT source_type, source_zone, parse_status FROM events")
		if err == nil {
			for rows.Next() {
				var a, b, c string
				_ = rows.Scan(&a, &b, &c)
				events = append(events, a+"/"+b+"/"+c)
			}
			rows.Close()
		}
		var dead uint64
		_ = conn.QueryRow(context.Background(), "SELECT count() FROM dead_letters").Scan(&dead)
		t.Fatalf("%s: notified %q, want %q (events %v, dead letters %d)", what, notified(), want, events, dead)
	}

	send(fw(1))
	send(ssh) // no rule for it yet
	wait("first alert", "LOCAL-001")

	writeRuleFile(t, rulesDir, "ssh.yaml", stageRulesSSH)
	waitMetric(t, info.API, "zonewatch_rules_loaded", "2")
	send(ssh)
	wait("rule added", "LOCAL-001 LOCAL-002")

	writeRuleFile(t, rulesDir, "broken.yaml", strings.ReplaceAll(stageRulesSSH, "event.module", "event.modul"))
	waitMetric(t, info.API, "zonewatch_rules_reload_failures_total", "1")
	send(fw(2))
	send(ssh)
	wait("after a refused set", "LOCAL-001 LOCAL-002 LOCAL-001 LOCAL-002")
	waitCount(t, conn, 4, "SELECT count() FROM alerts FINAL WHERE rule_id IN ('LOCAL-001', 'LOCAL-002')")
	waitMetric(t, info.API, `zonewatch_notify_sent_total{kind="alert",receiver="soc"}`, "4")
}

func writeRuleFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitMetric polls /metrics until the line "name value" appears.
func waitMetric(t *testing.T, api, name, value string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+api+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, name+" ") {
				last = line
				if strings.TrimPrefix(line, name+" ") == value {
					return
				}
			}
		}
	}
	t.Fatalf("/metrics: %q, want %s %s", last, name, value)
}

func sortedWords(s string) string {
	w := strings.Fields(s)
	slices.Sort(w)
	return strings.Join(w, " ")
}
