package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/config"
)

// requireCmd finds a program from Debian's packages; under CI=true a missing one fails the test.
func requireCmd(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if chtest.InCI() {
		t.Fatalf("%s is missing: run ./deploy/setup.sh", names[0])
	}
	t.Skipf("%s is missing: run ./deploy/setup.sh", names[0])
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRsyslogForwardsAFileWithOctetCounting runs Debian's rsyslogd on loopback: it reads a file with imfile
// and forwards each line to zonewatch over TCP with RFC 6587 octet counting.
func TestRsyslogForwardsAFileWithOctetCounting(t *testing.T) {
	rsyslogd := requireCmd(t, "rsyslogd", "/usr/sbin/rsyslogd")
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	info, stop := startServe(t, testConfig(t, dir, db), dir)
	defer stop()
	_, port := hostPort(t, info.Listeners["syslog-tcp/tcp"])

	input := filepath.Join(dir, "device.log")
	lines := []string{
		`date=2026-11-02 time=10:00:00 devname="fw-internet" logid="0000000013" type="traffic" subtype="forward" srcip=10.30.1.20 srcport=40001 dstip=198.51.100.7 dstport=443 proto=6 action="accept" sentbyte=1200 rcvdbyte=5400`,
		`date=2026-11-02 time=10:00:01 devname="fw-internet" logid="0000000013" type="traffic" subtype="forward" srcip=10.30.1.21 srcport=40002 dstip=198.51.100.8 dstport=25 proto=6 action="deny"`,
	}
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "auth.log")
	if err := os.WriteFile(auth, []byte("Failed password for tanaka from 10.20.2.15 port 50111 ssh2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "rsyslog")
	_ = os.MkdirAll(work, 0o755)
	conf := fmt.Sprintf(`global(workDirectory="%s")
module(load="imfile")
input(type="imfile" File="%s" Tag="fortigate" ruleset="fwd")
input(type="imfile" File="%s" Tag="sshd" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="%s" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
}
`, work, input, auth, port)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsyslogd, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslog.pid"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	waitCount(t, conn, 3, "SELECT count() FROM events")
	var n uint64
	if err := conn.QueryRow(context.Background(), `SELECT count() FROM events WHERE source_type = 'fortigate' AND source_zone = 'internet'
		AND destination_zone = 'external' AND listener = 'syslog-tcp'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d FortiGate rows from the internet zone to the outside, want 2 (rsyslogd said: %s)", n, out)
	}
	var user string
	if err := conn.QueryRow(context.Background(), `SELECT user_name FROM events WHERE source_type = 'sshd'`).Scan(&user); err != nil || user != "tanaka" {
		t.Errorf("sshd line: user %q, %v", user, err)
	}
}

// TestSquidAccessLogIsFollowed runs Debian's squid on loopback, sends requests through it with curl to a
// local web server, and finds each request as an event from the access.log zonewatch follows.
func TestSquidAccessLogIsFollowed(t *testing.T) {
	squid := requireCmd(t, "squid", "/usr/sbin/squid")
	curl := requireCmd(t, "curl")
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()

	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/forbidden" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		fmt.Fprintln(w, "hello from the origin")
	})}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = web.Serve(wl) }()
	defer web.Close()

	// squid drops root for the user proxy, which must reach its log directory through the test's folders.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	sq := filepath.Join(dir, "squid")
	for _, d := range []string{"logs", "run", "cache"} {
		_ = os.MkdirAll(filepath.Join(sq, d), 0o777)
	}
	_ = os.Chmod(filepath.Join(sq, "logs"), 0o777)
	access := filepath.Join(sq, "logs", "access.log")
	port := freePort(t)
	conf := fmt.Sprintf(`http_port 127.0.0.1:%d
acl localnet src 127.0.0.0/8
http_access allow localnet
http_access deny all
access_log stdio:%s squid
cache_log %s
pid_filename %s
cache deny all
shutdown_lifetime 0 seconds
coredump_dir %s
`, port, access, filepath.Join(sq, "logs", "cache.log"), filepath.Join(sq, "run", "squid.pid"), filepath.Join(sq, "cache"))
	confPath := filepath.Join(sq, "squid.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(squid, "-N", "-f", confPath)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	proxy := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(sq, "logs", "cache.log"))
			t.Fatalf("squid did not listen: %s\n%s", out, b)
		}
	}

	cfg := testConfig(t, dir, db)
	cfg.Files = []config.FileInput{{Name: "squid-local", Path: access, Format: "squid"}}
	cfg.StateDir = filepath.Join(dir, "state")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	_, stop := startServe(t, cfg, dir)
	defer stop()

	origin := "http://" + wl.Addr().String()
	for _, path := range []string{"/a", "/b", "/forbidden"} {
		if out, err := exec.Command(curl, "-s", "-o", "/dev/null", "-x", proxy, origin+path).CombinedOutput(); err != nil {
			t.Fatalf("curl through squid: %v %s", err, out)
		}
	}
	// squid also logs the test's readiness probe (a connection with no request); count the requests.
	waitCount(t, conn, 3, "SELECT count() FROM events WHERE listener = 'squid-local' AND http_method = 'GET'")
	var forbidden uint64
	if err := conn.QueryRow(context.Background(), `SELECT count() FROM events WHERE listener = 'squid-local' AND source_type = 'squid'
		AND http_status = 403 AND url_original LIKE '%/forbidden' AND http_method = 'GET'`).Scan(&forbidden); err != nil {
		t.Fatal(err)
	}
	if forbidden != 1 {
		b, _ := os.ReadFile(access)
		t.Errorf("the 403 request is not an event with its status, method and URL; access.log:\n%s", b)
	}
}
