// Command zonewatch is the whole pipeline in one binary; see `zonewatch --help` and README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/zonewatch/zonewatch/internal/cli"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
)

func main() {
	// The embedded ClickHouse runs as a child process of this same binary.
	clickhouse.RunChildIfRequested()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
