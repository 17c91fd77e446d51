package cli

import (
	"context"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/config"
)

// migrateClickHouse applies the migrations: on the one server conn is connected to, or, with
// clickhouse.cluster configured, node by node on every node of the cluster (never ON CLUSTER), with the
// credentials of co. The names it returns say which node applied what.
func migrateClickHouse(ctx context.Context, cfg *config.Config, conn driver.Conn, co clickhouse.ConnOptions, log *slog.Logger) ([]string, error) {
	opts := clickhouse.MigrateOptions{Database: cfg.ClickHouse.Database, Logger: log}
	if !cfg.ClickHouse.Clustered() {
		return clickhouse.Migrate(ctx, conn, opts)
	}
	opts.Cluster = clusterLayout(cfg.ClickHouse.Cluster)
	co.Settings = nil
	done, err := clickhouse.MigrateNodes(ctx, cfg.ClickHouse.Cluster.Nodes, co, opts)
	var applied []string
	for _, d := range done {
		for _, name := range d.Applied {
			applied = append(applied, d.Node+" "+name)
		}
	}
	return applied, err
}

func clusterLayout(c config.ClickHouseCluster) *clickhouse.Cluster {
	return &clickhouse.Cluster{Name: c.Name, Replicated: c.Replicated, ReplicaPath: c.ReplicaPath,
		ReplicaName: c.ReplicaName, ShardingKeys: c.ShardingKeys}
}
