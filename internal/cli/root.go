// Package cli holds the zonewatch command's subcommands; main.go only calls Execute. Each subcommand is
// a thin layer over the packages that do the work.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/zonewatch/zonewatch/internal/cli.Version=…".
var Version = "dev"

// Execute runs the command line and returns the process's exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "zonewatch:", err)
		return 1
	}
	return 0
}

type globals struct {
	config   string
	logLevel string
	stdout   io.Writer
	stderr   io.Writer
}

func (g *globals) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "zonewatch",
		Short: "Log aggregation and anomaly monitoring for a three-zone municipal network",
		Long: `zonewatch collects syslog and proxy logs from the mynumber, lgwan and internet zones, carries them
through NATS JetStream into ClickHouse, detects cross-zone attempts, off-hours access and suspicious
traffic, and serves the results to Grafana and to the monthly report.

Start here:
  zonewatch serve                       run the pipeline (embedded NATS and ClickHouse by default)
  zonewatch simulate --tcp 127.0.0.1:5514 --from 2026-11-01 --to 2026-11-02
                                        send realistic sample traffic to it
  zonewatch migrate                     create or upgrade the ClickHouse schema

Configuration: --config FILE (see deploy/zonewatch.example.yaml); without it the defaults apply.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVarP(&g.config, "config", "c", os.Getenv("ZONEWATCH_CONFIG"), "configuration file (YAML); env ZONEWATCH_CONFIG")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "debug, info, warn or error")
	root.AddCommand(newServe(g), newMigrate(g), newSimulate(g), newRetention(g), newRules(g), newQuery(g), newReport(g), newVersion(g))
	return root
}

func newVersion(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print zonewatch's version and the versions of its engines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(g.stdout, "zonewatch %s\n", Version)
			if bi, ok := debug.ReadBuildInfo(); ok {
				fmt.Fprintf(g.stdout, "go %s\n", bi.GoVersion)
				for _, d := range bi.Deps {
					switch d.Path {
					case "github.com/nats-io/nats-server/v2", "github.com/nats-io/nats.go", "github.com/ClickHouse/clickhouse-go/v2",
						"github.com/expr-lang/expr", "github.com/influxdata/go-syslog/v3":
						fmt.Fprintf(g.stdout, "%s %s\n", d.Path, d.Version)
					}
				}
			}
			return nil
		},
	}
}
