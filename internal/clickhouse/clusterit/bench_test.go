package clusterit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
)

// BenchmarkWriterCluster measures the writer draining the same events from JetStream into a
// single-server database and into the two-shard cluster layout (synchronous Distributed inserts),
// on the same machine in the same run, and reports the cluster's rate as a ratio of the single
// server's. Both shards share this machine's cores, so the ratio shows the cost of the Distributed
// hop, not the gain of a second machine. Run it once: go test -run - -bench WriterCluster -benchtime 1x.
func BenchmarkWriterCluster(b *testing.B) {
	const n = 100_000
	nodes := startCluster(b, 2)
	addrs := []string{nodes[0].addr(), nodes[1].addr()}
	ctx := b.Context()
	if _, err := clickhouse.MigrateNodes(ctx, addrs, clickhouse.ConnOptions{}, clickhouse.MigrateOptions{Database: db, Cluster: &clickhouse.Cluster{Name: clusterName}}); err != nil {
		b.Fatal(err)
	}
	if _, err := clickhouse.Migrate(ctx, open(b, addrs[0], "default", nil), clickhouse.MigrateOptions{Database: "single"}); err != nil {
		b.Fatal(err)
	}
	events := genEvents(n, 24, time.Now().UTC().Truncate(time.Hour))
	drain := func(database string, settings map[string]any) (took time.Duration, meanInsert float64) {
		bus := startBus(b)
		bus.publish(b, events)
		conn := open(b, addrs[0], database, settings)
		t0 := time.Now()
		stop, reg := runWriter(b, writer.Options{JS: bus.js, CH: conn, Database: database})
		waitFor(b, 5*time.Minute, fmt.Sprintf("%d events in %s", n, database), func() bool {
			return count(b, conn, "SELECT count() FROM events") == n
		})
		d := time.Since(t0)
		stop()
		return d, metric(b, reg, "zonewatch_writer_batch_seconds")
	}
	for b.Loop() {
		single, singleInsert := drain("single", nil)
		cluster, clusterInsert := drain(db, clickhouse.ClusterSettings(false))
		b.Logf("mean INSERT of a batch: single server %.3fs, cluster %.3fs", singleInsert, clusterInsert)
		b.ReportMetric(n/single.Seconds(), "single_events/s")
		b.ReportMetric(n/cluster.Seconds(), "cluster_events/s")
		b.ReportMetric(single.Seconds()/cluster.Seconds(), "cluster/single")
	}
}
