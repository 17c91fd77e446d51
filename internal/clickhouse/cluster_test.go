package clickhouse_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestClusterPlanGolden pins the DDL the cluster layouts run on each node for the released
// migrations. The sharded layout also runs for real (internal/clickhouse/clusterit); the
// replicated one needs Keeper, which these machines cannot run under clickhouse-local, so the
// golden file is what checks it.
func TestClusterPlanGolden(t *testing.T) {
	migs, err := clickhouse.LoadMigrations(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*clickhouse.Cluster{
		"sharded":    {Name: "zw"},
		"replicated": {Name: "zw", Replicated: true},
	} {
		t.Run(name, func(t *testing.T) {
			plan, err := clickhouse.Plan(migs, "zonewatch", c)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, m := range plan.Migrations {
				fmt.Fprintf(&b, "-- %s\n", m.Name)
				for _, s := range m.Statements {
					b.WriteString(s + ";\n")
				}
				b.WriteString("\n")
			}
			golden := filepath.Join("testdata", "cluster_"+name+".sql")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestClusterPlanGolden -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("plan differs from %s (run with -update and review the diff):\n%s", golden, b.String())
			}
		})
	}
}

func TestClusterPlanRewrites(t *testing.T) {
	migs := []clickhouse.Migration{{Version: 1, Name: "0001_x", SQL: `
-- a comment that names {{.Database}}.t
CREATE TABLE IF NOT EXISTS {{.Database}}.t (k String, v UInt64) ENGINE = SummingMergeTree((v)) ORDER BY k SETTINGS index_granularity = 8192;
CREATE TABLE IF NOT EXISTS {{.Database}}.roll (k String, v UInt64) ENGINE = SummingMergeTree ORDER BY k;
CREATE TABLE IF NOT EXISTS {{.Database}}.mem (k String) ENGINE = Memory;
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.Database}}.roll_mv TO {{.Database}}.roll AS SELECT k, sum(v) AS v FROM {{.Database}}.t GROUP BY k;
CREATE VIEW IF NOT EXISTS {{.Database}}.v AS SELECT k FROM {{.Database}}.t;
ALTER TABLE {{.Database}}.t ADD COLUMN IF NOT EXISTS w String;
`}}
	c := &clickhouse.Cluster{Name: "zw", Replicated: true, ShardingKeys: map[string]string{"t": "cityHash64(k)", "roll": "rand()"}}
	plan, err := clickhouse.Plan(migs, "db", c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CREATE TABLE IF NOT EXISTS db.t_local (k String, v UInt64) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', (v)) ORDER BY k SETTINGS index_granularity = 8192",
		"CREATE TABLE IF NOT EXISTS db.t AS db.t_local ENGINE = Distributed('zw', 'db', 't_local', cityHash64(k))",
		"CREATE TABLE IF NOT EXISTS db.roll_local (k String, v UInt64) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY k",
		"CREATE TABLE IF NOT EXISTS db.roll AS db.roll_local ENGINE = Distributed('zw', 'db', 'roll_local', rand())",
		"CREATE TABLE IF NOT EXISTS db.mem (k String) ENGINE = Memory",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS db.roll_mv TO db.roll_local AS SELECT k, sum(v) AS v FROM db.t_local GROUP BY k",
		"CREATE VIEW IF NOT EXISTS db.v AS SELECT k FROM db.t",
		"ALTER TABLE db.t_local ADD COLUMN IF NOT EXISTS w String",
	}
	got := plan.Migrations[0].Statements
	if len(got) != len(want) {
		t.Fatalf("got %d statements, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("statement %d\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

func TestClusterPlanRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		sql     string
		cluster clickhouse.Cluster
		want    string
	}{
		"no sharding key":   {"CREATE TABLE IF NOT EXISTS {{.Database}}.nokey (k String) ENGINE = MergeTree ORDER BY k;", clickhouse.Cluster{Name: "zw"}, "no sharding key"},
		"view without TO":   {"CREATE TABLE IF NOT EXISTS {{.Database}}.events (k String) ENGINE = MergeTree ORDER BY k;\nCREATE MATERIALIZED VIEW {{.Database}}.mv ENGINE = MergeTree ORDER BY k AS SELECT k FROM {{.Database}}.events;", clickhouse.Cluster{Name: "zw"}, "without TO"},
		"unknown statement": {"CREATE TABLE IF NOT EXISTS {{.Database}}.events (k String) ENGINE = MergeTree ORDER BY k;\nDROP TABLE {{.Database}}.events;", clickhouse.Cluster{Name: "zw"}, "does not know how"},
		"bad cluster name":  {"SELECT 1;", clickhouse.Cluster{Name: "zw; DROP"}, "not a plain identifier"},
		"bad sharding key":  {"SELECT 1;", clickhouse.Cluster{Name: "zw", ShardingKeys: map[string]string{"events": "1; DROP TABLE x"}}, "not an expression"},
	} {
		t.Run(name, func(t *testing.T) {
			migs, err := clickhouse.LoadMigrations(fstest.MapFS{"0001_x.sql": {Data: []byte(tc.sql)}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = clickhouse.Plan(migs, "db", &tc.cluster)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestNodeConfigXML(t *testing.T) {
	x, err := clickhouse.NodeConfig{Cluster: "zw", Shards: [][]string{{"127.0.0.1:9001"}, {"127.0.0.1:9002", "[::1]:9003"}},
		Macros: map[string]string{"shard": "02", "replica": "a<b"}}.XML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<remote_servers><zw>",
		"<replica><host>127.0.0.1</host><port>9001</port></replica>",
		"<replica><host>::1</host><port>9003</port></replica>",
		"<macros><replica>a&lt;b</replica><shard>02</shard></macros>",
		"<background_distributed_schedule_pool_size>4</background_distributed_schedule_pool_size>",
	} {
		if !strings.Contains(x, want) {
			t.Errorf("XML lacks %s:\n%s", want, x)
		}
	}
	if strings.Count(x, "<shard><internal_replication>") != 2 {
		t.Errorf("want 2 shards:\n%s", x)
	}
	if _, err := (clickhouse.NodeConfig{Cluster: "zw", Shards: [][]string{{"nohostport"}}}).XML(); err == nil {
		t.Error("a replica without a port was accepted")
	}
}
