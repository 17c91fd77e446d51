package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/config"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// testConfig points zonewatch at the package's ClickHouse (as an external server, with a database of the
// test's own) and gives it an embedded NATS and listeners on free loopback ports.
func testConfig(t *testing.T, dir, db string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.ClickHouse.Addr = []string{chtest.Server(t).NativeAddr()}
	cfg.ClickHouse.Database = db
	cfg.NATS.Embedded = config.EmbeddedNATS{DataDir: filepath.Join(dir, "nats"), Listen: "127.0.0.1:0"}
	cfg.Listeners = []config.Listener{
		{Name: "syslog-tcp", Protocol: "tcp", Address: "127.0.0.1:0"},
		{Name: "syslog-udp", Protocol: "udp", Address: "127.0.0.1:0"},
	}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Rules.Dir = "../../rules/default"
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Writer.FlushInterval = config.D(200 * time.Millisecond)
	cfg.Hosts = []config.HostConfig{{Name: "proxy-cloud", Role: "proxy", Addresses: []string{"10.30.0.5"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startServe runs serve in this process until the returned stop is called.
func startServe(t *testing.T, cfg *config.Config, dir string) (readyInfo, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := filepath.Join(dir, "ready.json")
	_ = os.Remove(ready)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, testLogger(t), ready) }()
	info := waitReady(t, ready, done)
	return info, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

func waitReady(t *testing.T, path string, done <-chan error) readyInfo {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			var info readyInfo
			if err := json.Unmarshal(b, &info); err == nil {
				return info
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("serve not ready in 60s")
	return readyInfo{}
}

func logger(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("logger", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("logger %v: %v\n%s", args, err, out)
	}
}

func hostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// waitCount polls until query returns want, or fails after a deadline with the last value.
func waitCount(t *testing.T, conn driver.Conn, want uint64, query string, args ...any) {
	t.Helper()
	var got uint64
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := conn.QueryRow(context.Background(), query, args...).Scan(&got); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got == want {
			return
		}
	}
	t.Fatalf("%s = %d, want %d", query, got, want)
}

func TestEndToEndWithRealSyslogClient(t *testing.T) {
	if _, err := exec.LookPath("logger"); err != nil {
		if chtest.InCI() {
			t.Fatal("util-linux logger is missing: run ./deploy/setup.sh")
		}
		t.Skip("util-linux logger is missing: run ./deploy/setup.sh")
	}
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	info, stop := startServe(t, testConfig(t, dir, db), dir)
	defer stop()
	host, port := hostPort(t, info.Listeners["syslog-tcp/tcp"])
	_, uport := hostPort(t, info.Listeners["syslog-udp/udp"])

	fw := `date=2026-11-02 time=09:15:01 devname="fw-mynumber" logid="0000000013" type="traffic" subtype="forward" srcip=10.10.1.5 srcport=50123 dstip=10.20.1.8 dstport=445 proto=6 action="deny" policyid=0`
	logger(t, "--server", host, "--port", port, "--tcp", "--rfc5424", "--octet-count", "-t", "fortigate", "-p", "local7.warning", fw)
	logger(t, "--server", host, "--port", port, "--tcp", "--rfc3164", "-t", "sshd", "--id=4242", "Failed password for invalid user admin from 10.30.1.9 port 4444 ssh2")
	logger(t, "--server", host, "--port", uport, "--udp", "--rfc5424", "-t", "app", "a body nobody understands")

	waitCount(t, conn, 3, "SELECT count() FROM events")
	var srcZone, dstZone, action, outcome, module string
	var dstPort uint16
	var cross bool
	if err := conn.QueryRow(context.Background(), `SELECT source_zone, destination_zone, destination_port, action, outcome, source_type, cross_zone
		FROM events WHERE source_type = 'fortigate'`).Scan(&srcZone, &dstZone, &dstPort, &action, &outcome, &module, &cross); err != nil {
		t.Fatal(err)
	}
	if srcZone != "mynumber" || dstZone != "lgwan" || dstPort != 445 || action != "deny" || outcome != "failure" || module != "fortigate" || !cross {
		t.Errorf("fortigate row: %s→%s:%d %s/%s %s cross=%v", srcZone, dstZone, dstPort, action, outcome, module, cross)
	}
	var user, ip, proc, status string
	if err := conn.QueryRow(context.Background(), `SELECT user_name, IPv6NumToString(source_ip), process_name, parse_status
		FROM events WHERE source_type = 'sshd'`).Scan(&user, &ip, &proc, &status); err != nil {
		t.Fatal(err)
	}
	if user != "admin" || ip != "::ffff:10.30.1.9" || proc != "sshd" || status != "ok" {
		t.Errorf("sshd row: user %q ip %q process %q status %q", user, ip, proc, status)
	}
	// The rules stage raised the policy's first alert: a connection attempt out of the mynumber zone.
	waitCount(t, conn, 1, "SELECT count() FROM alerts FINAL WHERE rule_id = 'ZW-CZ-001' AND severity = 'critical' AND has(zones, 'mynumber')")
	var raw string
	if err := conn.QueryRow(context.Background(), `SELECT raw FROM events WHERE parse_status = 'envelope'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(raw, "a body nobody understands") {
		t.Errorf("unparsed body row keeps raw %q", raw)
	}
}

func TestMalformedInputBecomesADeadLetterAndTheListenerGoesOn(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	info, stop := startServe(t, testConfig(t, dir, db), dir)
	defer stop()
	c, err := net.Dial("tcp", info.Listeners["syslog-tcp/tcp"])
	if err != nil {
		t.Fatal(err)
	}
	long := "<13>1 2026-11-02T00:00:00Z h app - - - " + strings.Repeat("x", 70_000)
	fmt.Fprintf(c, "this is not syslog\n\x00\xff\xfe garbage\n%s\n<13>1 2026-11-02T00:00:00Z h app - - - fine\n", long)
	_ = c.Close()
	waitCount(t, conn, 1, "SELECT count() FROM events")
	waitCount(t, conn, 3, "SELECT count() FROM dead_letters")
	var reasons string
	if err := conn.QueryRow(context.Background(), "SELECT arrayStringConcat(groupArray(reason), ' | ') FROM dead_letters").Scan(&reasons); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reasons, "max_message_bytes") || !strings.Contains(reasons, "PRI") {
		t.Errorf("reasons: %s", reasons)
	}
}
