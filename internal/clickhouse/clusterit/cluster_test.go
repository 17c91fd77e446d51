package clusterit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/cli"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/query"
)

const db = "zonewatch"

// TestShardedCluster is issue 10's acceptance test for ClickHouse: two embedded ClickHouse
// processes as the two shards of cluster "zw", migrated node by node, written to by the zonewatch
// writer through the Distributed tables, read back by query.Engine; then a shard is SIGKILLed and
// restarted twice, once with the default synchronous Distributed inserts (the writer's retry
// catches the shard up) and once with background inserts (the inserting node's queue does).
func TestShardedCluster(t *testing.T) {
	t0 := time.Now()
	nodes := startCluster(t, 2)
	ctx := t.Context()
	addrs := []string{nodes[0].addr(), nodes[1].addr()}
	t.Logf("cluster of 2 started in %v", time.Since(t0).Round(time.Millisecond))

	migrateCluster(t, addrs)
	node1, node2 := open(t, addrs[0], db, nil), open(t, addrs[1], db, nil)

	// Phase 1: writes spread over the shards, one source's events on one shard, reads see all.
	bus := startBus(t)
	end := time.Now().UTC().Truncate(time.Hour)
	first := genEvents(6000, 24, end)
	bus.publish(t, first)
	stopSync, syncMetrics := runWriter(t, writer.Options{JS: bus.js, Database: db,
		CH: open(t, addrs[0], db, clickhouse.ClusterSettings(false))})
	want := uint64(len(first))
	waitFor(t, 30*time.Second, "the first events through Distributed", func() bool { return count(t, node2, "SELECT count() FROM events") == want })
	checkShards(t, node1, node2, want)
	checkQueryEngine(t, node2, first, end)
	checkAlertStatus(t, open(t, addrs[0], db, clickhouse.ClusterSettings(false)))

	// Phase 2: synchronous inserts (the default). A shard is killed; the writer's INSERT fails and
	// is retried while JetStream keeps the events, and stores them once the shard is back.
	local1Before := count(t, node1, "SELECT count() FROM events_local")
	nodes[1].kill(t)
	failuresBefore := metric(t, syncMetrics, "zonewatch_writer_insert_failures_total")
	second := genEvents(3000, 24, end.Add(-time.Hour))
	bus.publish(t, second)
	waitFor(t, 20*time.Second, "the writer to retry against the dead shard", func() bool {
		return metric(t, syncMetrics, "zonewatch_writer_insert_failures_total") > failuresBefore+1
	})
	if metric(t, syncMetrics, "zonewatch_writer_state") != 1 {
		t.Error("writer does not report retrying while a shard is down")
	}
	if bus.settled(t) {
		t.Fatal("the writer acknowledged events while their shard was down (synchronous inserts)")
	}
	if q := count(t, node1, "SELECT count() FROM system.distribution_queue WHERE database = ? AND data_files > 0", db); q != 0 {
		t.Errorf("synchronous inserts left %d queues on node 1: the writer's retry, not a queue, must carry the outage", q)
	}
	var n uint64
	if err := node1.QueryRow(ctx, "SELECT count() FROM events").Scan(&n); err == nil {
		t.Errorf("a read through Distributed with a shard down answered %d instead of failing", n)
	}
	// Whether the live shard kept its part of a failed INSERT is ClickHouse's business; if it did,
	// the exact counts below show the retry's de-duplication token kept it from being stored twice.
	t.Logf("sync: the live shard holds %d of the second events while the other is down",
		count(t, node1, "SELECT count() FROM events_local")-local1Before)
	nodes[1].start(t)
	want += uint64(len(second))
	waitFor(t, 30*time.Second, "the writer's retry to store the second events", func() bool {
		return bus.settled(t) && count(t, node1, "SELECT count() FROM events") == want
	})
	t.Logf("sync: %v failed INSERTs retried until the shard was back", metric(t, syncMetrics, "zonewatch_writer_insert_failures_total")-failuresBefore)
	node2 = open(t, addrs[1], db, nil)
	checkShards(t, node1, node2, want)
	stopSync()

	// Phase 3: background inserts. The node the writer is connected to queues the dead shard's
	// rows on its disk; the writer acknowledges at once; the queue delivers after the restart.
	_, _ = runWriter(t, writer.Options{JS: bus.js, Database: db,
		CH: open(t, addrs[0], db, clickhouse.ClusterSettings(true))})
	nodes[1].kill(t)
	third := genEvents(3000, 24, end.Add(-2*time.Hour))
	bus.publish(t, third)
	waitFor(t, 20*time.Second, "the writer to acknowledge the third events", func() bool { return bus.settled(t) })
	queued := count(t, node1, "SELECT sum(data_files) FROM system.distribution_queue WHERE database = ?", db)
	local1 := count(t, node1, "SELECT count() FROM events_local")
	if queued == 0 {
		t.Fatal("nothing waits in node 1's distribution queue although shard 2 is down")
	}
	t.Logf("background: %d files queued on node 1 for the dead shard", queued)
	nodes[1].start(t)
	want += uint64(len(third))
	waitFor(t, 60*time.Second, "the distribution queue to deliver to the restarted shard", func() bool {
		return count(t, node1, "SELECT count() FROM events") == want
	})
	if got := count(t, node1, "SELECT count() FROM events_local"); got != local1 {
		t.Errorf("node 1's own shard changed from %d to %d rows while the queue delivered", local1, got)
	}
	node2 = open(t, addrs[1], db, nil)
	checkShards(t, node1, node2, want)
	t.Logf("whole test %v", time.Since(t0).Round(time.Millisecond))
}

// migrateCluster runs `zonewatch migrate` for the cluster and checks the layout on every node.
func migrateCluster(t *testing.T, addrs []string) {
	t.Helper()
	ctx := t.Context()
	cfg := configFile(t, addrs, "")
	want := "CREATE TABLE IF NOT EXISTS zonewatch.events AS zonewatch.events_local ENGINE = Distributed('zw', 'zonewatch', 'events_local', "
	if out := zonewatch(t, cfg, "migrate", "--print"); !strings.Contains(out, want) {
		t.Errorf("zonewatch migrate --print lacks %q:\n%s", want, out)
	}
	if out := zonewatch(t, cfg, "migrate"); !strings.Contains(out, "up to date on the 2 nodes of cluster zw") {
		t.Errorf("zonewatch migrate said %q, want it up to date on the 2 nodes of cluster zw", out)
	}
	all, err := clickhouse.LoadMigrations(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range addrs {
		if n := count(t, open(t, addr, db, nil), "SELECT count() FROM schema_migrations FINAL"); n != uint64(len(all)) {
			t.Errorf("node %s recorded %d migrations, want %d", addr, n, len(all))
		}
	}
	opts := clickhouse.MigrateOptions{Database: db, Cluster: &clickhouse.Cluster{Name: clusterName}}
	again, err := clickhouse.MigrateNodes(ctx, addrs, clickhouse.ConnOptions{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range again {
		if len(d.Applied) != 0 {
			t.Errorf("second migrate applied %v on %s, want nothing", d.Applied, d.Node)
		}
	}
	for _, addr := range addrs {
		conn := open(t, addr, db, nil)
		for table, engine := range map[string]string{
			"events": "Distributed", "events_local": "ReplacingMergeTree", "alerts": "Distributed",
			"events_hourly": "Distributed", "events_hourly_local": "SummingMergeTree", "events_hourly_mv": "MaterializedView",
			"alert_status": "View", "schema_migrations": "ReplacingMergeTree",
		} {
			var got string
			if err := conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = ?", db, table).Scan(&got); err != nil || got != engine {
				t.Errorf("node %s: table %s has engine %q (%v), want %s", addr, table, got, err, engine)
			}
		}
		// The view must fill the local rollup from the local events, not go through Distributed.
		var deps []string
		if err := conn.QueryRow(ctx, "SELECT dependencies_table FROM system.tables WHERE database = ? AND name = 'events_local'", db).Scan(&deps); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(deps, "events_hourly_mv") {
			t.Errorf("node %s: events_hourly_mv does not read events_local (its dependants: %v)", addr, deps)
		}
	}
	// Single-server migrate on a cluster database is refused rather than mixing the layouts.
	conn := open(t, addrs[0], "default", nil)
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db}); err == nil {
		t.Error("single-server migrate of a cluster database was not refused")
	}
}

// checkShards checks that each shard holds part of the events, that no source is split between
// shards, that the Distributed table sees exactly want rows with no duplicate, and that the rollup
// (filled by each node's materialised view) adds up to the same.
func checkShards(t *testing.T, node1, node2 driver.Conn, want uint64) {
	t.Helper()
	n1 := count(t, node1, "SELECT count() FROM events_local")
	n2 := count(t, node2, "SELECT count() FROM events_local")
	t.Logf("shard 1 holds %d events, shard 2 %d", n1, n2)
	if n1 == 0 || n2 == 0 || n1+n2 != want {
		t.Errorf("shards hold %d + %d events, want both some and %d in all", n1, n2, want)
	}
	src1 := hosts(t, node1)
	for _, h := range hosts(t, node2) {
		if slices.Contains(src1, h) {
			t.Errorf("source %s has events on both shards", h)
		}
	}
	var rows, ids uint64
	if err := node1.QueryRow(context.Background(), "SELECT count(), uniqExact(id) FROM events").Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != want || ids != want {
		t.Errorf("events through Distributed: %d rows, %d distinct ids; want %d of each", rows, ids, want)
	}
	// An INSERT commits events_local before the view's rollup part: give the rollup a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := count(t, node2, "SELECT sum(events) FROM events_hourly")
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("events_hourly through Distributed sums to %d events, want %d", got, want)
			break
		}
		t.Logf("events_hourly through Distributed sums to %d events, want %d: waiting", got, want)
		time.Sleep(200 * time.Millisecond)
	}
}

func hosts(t *testing.T, conn driver.Conn) []string {
	t.Helper()
	var hs []string
	if err := conn.QueryRow(context.Background(), "SELECT groupUniqArray(observer_host) FROM events_local").Scan(&hs); err != nil {
		t.Fatal(err)
	}
	return hs
}

// checkQueryEngine asks query.Engine, connected to the second node, for counts by source zone,
// once answered from events and once from the events_hourly rollup, against the generated events.
func checkQueryEngine(t *testing.T, conn driver.Conn, events []event.Event, end time.Time) {
	t.Helper()
	eng, err := query.New(query.Options{Conn: conn, Database: db, Sources: []query.Source{query.EventsHourly}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	for _, e := range events {
		want[e.Source.Zone]++
	}
	for name, q := range map[string]query.Query{
		// A range not aligned to hours: only events can answer.
		"events":        {From: end.Add(-2 * time.Hour).Add(time.Minute), To: end.Add(time.Minute), GroupBy: []string{"source.zone"}},
		"events_hourly": {From: end.Add(-2 * time.Hour), To: end.Add(time.Hour), GroupBy: []string{"source.zone"}},
	} {
		res, err := eng.Aggregate(t.Context(), q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Source != name {
			t.Errorf("query answered from %s, want %s", res.Source, name)
		}
		got := map[string]uint64{}
		for _, r := range res.Rows {
			got[fmt.Sprint(r[0])] = toUint(r[1])
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("query.Engine from %s: counts by source zone %v, want %v", name, got, want)
		}
	}
}

func toUint(v any) uint64 {
	switch x := v.(type) {
	case uint64:
		return x
	case int64:
		return uint64(x)
	case float64:
		return uint64(x)
	}
	return 0
}

// checkAlertStatus checks the query shape of query/alerts.go on the cluster layout: alerts (sharded
// by id) FINAL joined with the alert_status view over alert_actions (sharded by alert_id).
func checkAlertStatus(t *testing.T, conn driver.Conn) {
	t.Helper()
	ctx := t.Context()
	for i := range 20 {
		id := fmt.Sprintf("alert-%02d", i)
		for range 2 { // a re-raised alert: ReplacingMergeTree keeps one
			if err := conn.Exec(ctx, "INSERT INTO alerts (id, rule_id, created, first_seen) VALUES (?, 'ZW-T-001', now64(3), now64(3))", id); err != nil {
				t.Fatal(err)
			}
		}
		if i%4 == 0 {
			if err := conn.Exec(ctx, "INSERT INTO alert_actions (alert_id, action, who, at) VALUES (?, 'acknowledge', 'soc', now64(3))", id); err != nil {
				t.Fatal(err)
			}
		}
	}
	var alerts, acked uint64
	q := "SELECT count(), countIf(s.status = 'acknowledge') FROM " + db + ".alerts AS a FINAL LEFT JOIN " + db + ".alert_status AS s ON s.alert_id = a.id"
	if err := conn.QueryRow(ctx, q).Scan(&alerts, &acked); err != nil {
		t.Fatal(err)
	}
	if alerts != 20 || acked != 5 {
		t.Errorf("alerts joined with their status: %d alerts, %d acknowledged; want 20 and 5", alerts, acked)
	}
}

// configFile writes a zonewatch configuration for the cluster of addrs, plus extra YAML.
func configFile(t *testing.T, addrs []string, extra string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "zonewatch.yaml")
	yaml := fmt.Sprintf("clickhouse:\n  addr: [%q]\n  database: %s\n  cluster:\n    name: %s\n    nodes: [%q, %q]\n%s",
		addrs[0], db, clusterName, addrs[0], addrs[1], extra)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// zonewatch runs the zonewatch command line with cfg and args, and returns what it printed.
func zonewatch(t *testing.T, cfg string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Execute(t.Context(), append([]string{"--config", cfg, "--log-level", "warn"}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("zonewatch %v exited %d: %s", args, code, stderr.String())
	}
	return stdout.String()
}

// TestClusterRetention: a Distributed table has no partitions, so `zonewatch retention` drops old
// months from every node's local tables.
func TestClusterRetention(t *testing.T) {
	nodes := startCluster(t, 2)
	addrs := []string{nodes[0].addr(), nodes[1].addr()}
	migrateCluster(t, addrs)
	conn := open(t, addrs[0], db, clickhouse.ClusterSettings(false))
	now := time.Now().UTC()
	old := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC).AddDate(0, -4, 0)
	// 24 sources, each with events in the current month and four months back, on both shards.
	err := conn.Exec(t.Context(), `INSERT INTO events (id, timestamp, ingested, observer_host, source_zone)
		SELECT toString(number), if(number % 2 = 0, ?, ?), now64(3), concat('fw-', toString(number % 24)), 'lgwan' FROM numbers(2000)`, now, old)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n := count(t, open(t, a, db, nil), "SELECT count() FROM events_local WHERE timestamp < ?", now.AddDate(0, -1, 0)); n == 0 {
			t.Fatalf("node %s holds no old events: the test would prove nothing", a)
		}
	}
	cfg := configFile(t, addrs, "retention:\n  months: {events: 1}\n")
	shown := zonewatch(t, cfg, "retention")
	for _, want := range []string{"node " + addrs[0], "node " + addrs[1], "events_local", old.Format("2006-01")} {
		if !strings.Contains(shown, want) {
			t.Errorf("zonewatch retention output lacks %q:\n%s", want, shown)
		}
	}
	zonewatch(t, cfg, "retention", "--apply")
	for _, a := range addrs {
		c := open(t, a, db, nil)
		if n := count(t, c, "SELECT count() FROM events_local WHERE timestamp < ?", now.AddDate(0, -1, 0)); n != 0 {
			t.Errorf("node %s still holds %d events older than the retention", a, n)
		}
		if n := count(t, c, "SELECT sum(events) FROM events_hourly_local WHERE hour < ?", now.AddDate(0, -1, 0)); n == 0 {
			t.Errorf("node %s: the rollup of the old month was dropped too, although its retention is 60 months", a)
		}
	}
	if n := count(t, conn, "SELECT count() FROM events"); n != 1000 {
		t.Errorf("%d events left through Distributed, want the 1000 of this month", n)
	}
}
