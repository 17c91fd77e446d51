package config

import (
	"slices"
	"strings"
	"testing"
)

func TestClickHouseCluster(t *testing.T) {
	c, err := Load(write(t, "clickhouse:\n  addr: [ch1:9000, ch2:9000]\n  cluster:\n    name: zw\n    sharding_keys: {events: cityHash64(observer_host)}\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !c.ClickHouse.Clustered() || !slices.Equal(c.ClickHouse.Cluster.Nodes, []string{"ch1:9000", "ch2:9000"}) {
		t.Errorf("cluster %+v: want clustered, nodes defaulting to addr", c.ClickHouse.Cluster)
	}
	if c, err := Load("", func(string) string { return "" }); err != nil || c.ClickHouse.Clustered() {
		t.Errorf("defaults: clustered %v, err %v; want a single server", c != nil && c.ClickHouse.Clustered(), err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"embedded", "clickhouse:\n  cluster: {name: zw}\n", "clickhouse.addr: missing"},
		{"bad name", "clickhouse:\n  addr: [ch1:9000]\n  cluster: {name: 'zw-1'}\n", "clickhouse.cluster.name"},
		{"no name", "clickhouse:\n  addr: [ch1:9000]\n  cluster: {replicated: true}\n", "clickhouse.cluster.name: missing"},
		{"bad node", "clickhouse:\n  addr: [ch1:9000]\n  cluster: {name: zw, nodes: [ch1]}\n", "clickhouse.cluster.nodes[0]"},
		{"bad key", "clickhouse:\n  addr: [ch1:9000]\n  cluster: {name: zw, sharding_keys: {events: 'x; DROP'}}\n", "clickhouse.cluster.sharding_keys.events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body), func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
