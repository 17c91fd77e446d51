package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/internal/config"
)

func newMigrate(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the ClickHouse schema (idempotent; serve also runs it at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(g.config, nil)
			if err != nil {
				return err
			}
			log := g.logger()
			_, _, stop, err := openClickHouse(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			stop()
			fmt.Fprintf(g.stdout, "schema of database %s is up to date\n", cfg.ClickHouse.Database)
			return nil
		},
	}
}
