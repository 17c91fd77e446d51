package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/natsbus"
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

// chConnOptions are the connection options of the configuration for addrs: credentials, TLS and, on a
// cluster, the settings for reading and writing through the Distributed tables (clickhouse.ClusterSettings).
func chConnOptions(cfg *config.Config, addrs []string) (clickhouse.ConnOptions, error) {
	co := clickhouse.ConnOptions{Addr: addrs, Database: "default",
		Username: cfg.ClickHouse.Username, Password: cfg.ClickHouse.Password, MaxOpenConns: 16}
	if t := cfg.ClickHouse.TLS; t.Enabled() {
		tlsCfg, err := natsbus.TLSConfig(t.CA, t.Cert, t.Key, t.InsecureSkipVerify)
		if err != nil {
			return co, fmt.Errorf("clickhouse.tls: %w", err)
		}
		co.TLS = tlsCfg
	}
	if cfg.ClickHouse.Clustered() {
		co.Settings = clickhouse.ClusterSettings(cfg.ClickHouse.Cluster.BackgroundInsert)
	}
	return co, nil
}

// retentionNode is where retention drops partitions: the one server, or one node of the cluster.
type retentionNode struct {
	node string // host:port on a cluster, "" for the one server
	conn driver.Conn
	ret  writer.Retention
}

// retentionNodes returns where ret applies. A Distributed table has no partitions: on a cluster the
// months live in each node's local tables (<table>_local), so retention runs on every node with a
// connection of its own (closed by the returned func).
func retentionNodes(ctx context.Context, cfg *config.Config, conn driver.Conn, ret writer.Retention) ([]retentionNode, func(), error) {
	if !cfg.ClickHouse.Clustered() {
		return []retentionNode{{conn: conn, ret: ret}}, func() {}, nil
	}
	local := ret
	local.Months = map[string]int{}
	for table, m := range ret.Months {
		local.Months[table+clickhouse.LocalSuffix] = m
	}
	var nodes []retentionNode
	closeAll := func() {
		for _, n := range nodes {
			_ = n.conn.Close()
		}
	}
	for _, addr := range cfg.ClickHouse.Cluster.Nodes {
		co, err := chConnOptions(cfg, []string{addr})
		if err != nil {
			closeAll()
			return nil, func() {}, err
		}
		co.MaxOpenConns = 2
		c, err := clickhouse.Open(ctx, co)
		if err != nil {
			closeAll()
			return nil, func() {}, fmt.Errorf("retention on node %s: %w", addr, err)
		}
		nodes = append(nodes, retentionNode{node: addr, conn: c, ret: local})
	}
	return nodes, closeAll, nil
}
