package cli

import (
	"fmt"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/config"
)

func newMigrate(g *globals) *cobra.Command {
	var printOnly bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the ClickHouse schema (idempotent; serve also runs it at start)",
		Long: `Create or upgrade the ClickHouse schema: the migrations not yet recorded in schema_migrations, in order.

With clickhouse.cluster configured, the schema is laid out for the cluster (local tables on every node,
Distributed tables under the public names) and applied to each node of clickhouse.cluster.nodes in turn,
never ON CLUSTER. --print shows the statements a node runs, without connecting.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if printOnly {
				return printMigrations(g)
			}
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
	cmd.Flags().BoolVar(&printOnly, "print", false, "print every migration's statements for the configured layout instead of applying them")
	return cmd
}

// printMigrations prints the statements each node runs, for review before a migration.
func printMigrations(g *globals) error {
	cfg, err := config.Load(g.config, nil)
	if err != nil {
		return err
	}
	migs, err := clickhouse.LoadMigrations(nil)
	if err != nil {
		return err
	}
	var cluster *clickhouse.Cluster
	if cfg.ClickHouse.Clustered() {
		cluster = clusterLayout(cfg.ClickHouse.Cluster)
	}
	plan, err := clickhouse.Plan(migs, cfg.ClickHouse.Database, cluster)
	if err != nil {
		return err
	}
	for _, m := range plan.Migrations {
		fmt.Fprintf(g.stdout, "-- %s\n", m.Name)
		for _, s := range m.Statements {
			fmt.Fprintf(g.stdout, "%s;\n", s)
		}
		fmt.Fprintln(g.stdout)
	}
	return nil
}
