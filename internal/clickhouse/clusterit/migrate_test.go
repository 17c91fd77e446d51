package clusterit_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
)

// TestClusterMigrateEdges: a later ALTER reaches the Distributed table too, and migrate refuses what
// would leave a cluster half laid out.
func TestClusterMigrateEdges(t *testing.T) {
	nodes := startCluster(t, 2)
	addrs := []string{nodes[0].addr(), nodes[1].addr()}
	ctx := t.Context()
	v1 := fstest.MapFS{"0001_events.sql": {Data: []byte(
		"CREATE TABLE IF NOT EXISTS {{.Database}}.events (id String, observer_host String, observer_ip IPv6, n UInt8 CODEC(ZSTD(1))) ENGINE = ReplacingMergeTree ORDER BY id;\n")}}
	v2 := fstest.MapFS{"0001_events.sql": v1["0001_events.sql"], "0002_more.sql": {Data: []byte(
		"ALTER TABLE {{.Database}}.events ADD COLUMN IF NOT EXISTS zone LowCardinality(String) DEFAULT 'lgwan' AFTER id;\n" +
			"ALTER TABLE {{.Database}}.events MODIFY COLUMN n UInt32 CODEC(ZSTD(3));\n" +
			"ALTER TABLE {{.Database}}.events DROP COLUMN IF EXISTS observer_ip;\n")}}
	opts := func(db string, fs fstest.MapFS) clickhouse.MigrateOptions {
		return clickhouse.MigrateOptions{Database: db, FS: fs, Cluster: &clickhouse.Cluster{Name: clusterName,
			ShardingKeys: map[string]string{"events": "cityHash64(observer_host)"}}}
	}

	if _, err := clickhouse.MigrateNodes(ctx, addrs, clickhouse.ConnOptions{}, opts("edges", v1)); err != nil {
		t.Fatal(err)
	}
	if _, err := clickhouse.MigrateNodes(ctx, addrs, clickhouse.ConnOptions{}, opts("edges", v2)); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		conn := open(t, a, "edges", clickhouse.ClusterSettings(false))
		rows, err := conn.Query(ctx, "SELECT table, groupArray(concat(name, ' ', type, if(default_kind = '', '', concat(' ', default_kind, ' ', default_expression)))) FROM system.columns WHERE database = 'edges' GROUP BY table ORDER BY table")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for rows.Next() {
			var table string
			var cols []string
			if err := rows.Scan(&table, &cols); err != nil {
				t.Fatal(err)
			}
			got[table] = cols
		}
		rows.Close()
		want := "id String, zone LowCardinality(String) DEFAULT 'lgwan', observer_host String, n UInt32"
		for _, table := range []string{"events", "events_local"} {
			if s := strings.Join(got[table], ", "); s != want {
				t.Errorf("node %s: %s has columns %s, want %s", a, table, s, want)
			}
		}
		// An insert through Distributed that leaves zone out gets the local table's default.
		if err := conn.Exec(ctx, "INSERT INTO edges.events (id, observer_host, n) VALUES ('x"+a+"', 'fw', 70000)"); err != nil {
			t.Fatal(err)
		}
	}
	conn := open(t, addrs[0], "edges", nil)
	if n := count(t, conn, "SELECT countIf(zone = 'lgwan' AND n = 70000) FROM edges.events"); n != 2 {
		t.Errorf("%d rows through Distributed have the default zone and the widened n, want 2", n)
	}

	// A sharding key changed in the configuration after the tables exist is not silently ignored.
	for key, warned := range map[string]bool{"cityHash64(observer_host)": false, "cityHash64(`observer_host`)": false, "cityHash64(id)": true} {
		var logs bytes.Buffer
		o := opts("edges", v2)
		o.Cluster.ShardingKeys["events"] = key
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		if _, err := clickhouse.Migrate(ctx, open(t, addrs[0], "default", nil), o); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "table=edges.events"); got != warned {
			t.Errorf("configured key %s: warned %v, want %v; log:\n%s", key, got, warned, logs.String())
		}
	}

	for name, tc := range map[string]struct {
		nodes []string
		opts  clickhouse.MigrateOptions
		setup func(t *testing.T)
		want  string
	}{
		"a node left out": {addrs[:1], opts("fresh", v1), nil, "2 nodes in remote_servers but only 1 are listed"},
		"unknown cluster": {addrs, clickhouse.MigrateOptions{Database: "fresh", FS: v1, Cluster: &clickhouse.Cluster{Name: "nosuch",
			ShardingKeys: map[string]string{"events": "rand()"}}}, nil, "knows no cluster"},
		"single-server database": {addrs, opts("single", v1), func(t *testing.T) {
			if _, err := clickhouse.Migrate(ctx, open(t, addrs[0], "default", nil), clickhouse.MigrateOptions{Database: "single", FS: v1}); err != nil {
				t.Fatal(err)
			}
		}, "single-server layout"},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			_, err := clickhouse.MigrateNodes(ctx, tc.nodes, clickhouse.ConnOptions{}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
