package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// TestCommandsUseTheRunningEmbeddedClickHouse: with the embedded ClickHouse configured and a zonewatch
// serve already running it (here: the test package's embedded server on its port), query must use that
// server instead of starting a second one, which could not bind the port nor lock the data directory.
func TestCommandsUseTheRunningEmbeddedClickHouse(t *testing.T) {
	_, db := chtest.NewDatabase(t)
	_, port, err := net.SplitHostPort(chtest.Server(t).NativeAddr())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "zonewatch.yaml")
	body := fmt.Sprintf("clickhouse:\n  database: %s\n  embedded:\n    data_dir: %s\n    tcp_port: %s\n    http_port: 1\n",
		db, filepath.Join(dir, "clickhouse"), port)
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"--config", cfgPath, "query", "true", "--from", "2026-11-01", "--to", "2026-11-02"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("query against the running embedded ClickHouse: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "using the embedded ClickHouse of the running zonewatch serve") {
		t.Errorf("query did not say it used the running server:\n%s", errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "clickhouse")); err == nil {
		t.Error("query created an embedded data directory of its own")
	}
}
