package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/internal/config"
)

func newRetention(g *globals) *cobra.Command {
	var apply bool
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Show which monthly partitions retention would drop now (--apply drops them)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClickHouse(cmd.Context(), g, func(cfg *config.Config, conn driver.Conn, log *slog.Logger) error {
				nodes, closeNodes, err := retentionNodes(cmd.Context(), cfg, conn, retention(cfg, log))
				if err != nil {
					return err
				}
				defer closeNodes()
				var errs []error
				for _, n := range nodes {
					if n.node != "" {
						fmt.Fprintf(g.stdout, "node %s:\n", n.node)
					}
					errs = append(errs, retentionOnce(cmd.Context(), g, n, apply))
				}
				return errors.Join(errs...)
			})
		},
	}
	cmd.Flags().BoolVar(&apply, "apply", false, "drop the listed partitions now")
	return cmd
}

// retentionOnce shows (and with apply drops) what retention would drop on one server or node.
func retentionOnce(ctx context.Context, g *globals, n retentionNode, apply bool) error {
	drops, err := n.ret.Plan(ctx, n.conn, time.Now())
	if err != nil {
		return err
	}
	if len(drops) == 0 {
		fmt.Fprintln(g.stdout, "nothing to drop: every table is within its retention")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tMONTH\tROWS\tBYTES")
	for _, d := range drops {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", d.Table, d.Month.Format("2006-01"), d.Rows, d.Bytes)
	}
	_ = tw.Flush()
	if !apply {
		fmt.Fprintln(g.stdout, "(not dropped: run with --apply, or let serve apply it)")
		return nil
	}
	return n.ret.Apply(ctx, n.conn, drops)
}
