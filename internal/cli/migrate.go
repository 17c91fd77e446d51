package cli

import (
	"fmt"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/internal/config"
)

func newMigrate(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the ClickHouse schema (idempotent; serve also runs it at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClickHouse(cmd.Context(), g, func(cfg *config.Config, _ driver.Conn, _ *slog.Logger) error {
				if cl := cfg.ClickHouse.Cluster; cfg.ClickHouse.Clustered() {
					fmt.Fprintf(g.stdout, "schema of database %s is up to date on the %d nodes of cluster %s\n", cfg.ClickHouse.Database, len(cl.Nodes), cl.Name)
					return nil
				}
				fmt.Fprintf(g.stdout, "schema of database %s is up to date\n", cfg.ClickHouse.Database)
				return nil
			})
		},
	}
}
