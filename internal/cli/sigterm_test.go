package cli

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// buildZonewatch builds the real binary, so that SIGTERM reaches main's signal handling.
func buildZonewatch(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zonewatch")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/zonewatch/zonewatch")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary starts `zonewatch serve` and waits until it is ready; wait returns its exit error.
func startBinary(t *testing.T, bin, cfgPath, dir string) (cmd *exec.Cmd, info readyInfo, wait func() error) {
	t.Helper()
	ready := filepath.Join(dir, "ready.json")
	_ = os.Remove(ready)
	logPath := filepath.Join(dir, fmt.Sprintf("serve-%d.log", time.Now().UnixNano()))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(bin, "serve", "--config", cfgPath, "--ready-file", ready)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("zonewatch's log:\n%s", b)
		}
	})
	info = waitReady(t, ready, done)
	return cmd, info, func() error { return <-done }
}

func TestSIGTERMFlushesWhatWasAccepted(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	bin := buildZonewatch(t)
	cfgPath := filepath.Join(dir, "zonewatch.yaml")
	cfg := fmt.Sprintf(`clickhouse: {addr: ["%s"], database: %s}
nats: {embedded: {data_dir: "%s", listen: "127.0.0.1:0"}}
listeners: [{name: syslog-tcp, protocol: tcp, address: "127.0.0.1:0"}]
api: {listen: "127.0.0.1:0"}
writer: {flush_interval: 5s}
rules: {dir: ../../rules/default}
state_dir: "%s"
`, chtest.Server(t).NativeAddr(), db, filepath.Join(dir, "nats"), filepath.Join(dir, "state"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd, info, wait := startBinary(t, bin, cfgPath, dir)
	const n = 5000
	c, err := net.Dial("tcp", info.Listeners["syslog-tcp/tcp"])
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("<134>1 2026-11-02T09:00:00+09:00 fw-lgwan fortigate - - - srcip=10.20.1.%d dstip=10.30.0.5 dstport=8080 action=\"accept\" seq=%d", i%250+1, i)
		fmt.Fprintf(c, "%d %s", len(msg), msg)
	}
	_ = c.Close()
	// SIGTERM at once: the writer's 5 s flush interval means most lines are still in flight.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatalf("zonewatch did not exit cleanly on SIGTERM: %v", err)
	}

	_, _, _ = startBinary(t, bin, cfgPath, dir)
	waitCount(t, conn, n, "SELECT count() FROM events")
	time.Sleep(2 * time.Second) // nothing more may arrive
	waitCount(t, conn, n, "SELECT count() FROM events")
	waitCount(t, conn, n, "SELECT uniqExact(labels['seq']) FROM events")
}
