package clickhouse

import (
	"encoding/xml"
	"fmt"
	"net"
	"sort"
	"strings"
)

// NodeConfig is the server configuration that makes a ClickHouse server one node of a cluster:
// the cluster's shards in remote_servers, the node's macros, and a background pool that sends what
// Distributed tables queued. Its XML goes into EmbeddedOptions.ConfigXML for the embedded server
// (tests and trials on loopback); a production server carries the same elements in its own
// config.d/.
type NodeConfig struct {
	// Cluster names the cluster; required.
	Cluster string
	// Shards lists, per shard, the native host:port of each of its replicas; required.
	Shards [][]string
	// Macros are this node's macros, e.g. {"shard": "01", "replica": "ch1"}, used by replicated
	// table paths.
	Macros map[string]string
	// BackgroundPoolSize is background_distributed_schedule_pool_size: the threads that send
	// inserts a Distributed table queued for other shards. clickhouse-local's default is 0, which
	// sends nothing until SYSTEM FLUSH DISTRIBUTED; default here 4.
	BackgroundPoolSize int
}

// XML returns the configuration elements (inside <clickhouse>) for this node.
func (c NodeConfig) XML() (string, error) {
	if c.Cluster == "" || !identifier.MatchString(c.Cluster) {
		return "", fmt.Errorf("clickhouse: node config: cluster name %q is not a plain identifier", c.Cluster)
	}
	if len(c.Shards) == 0 {
		return "", fmt.Errorf("clickhouse: node config: cluster %s has no shards", c.Cluster)
	}
	if c.BackgroundPoolSize <= 0 {
		c.BackgroundPoolSize = 4
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<remote_servers><%s>\n", c.Cluster)
	for i, replicas := range c.Shards {
		if len(replicas) == 0 {
			return "", fmt.Errorf("clickhouse: node config: cluster %s, shard %d has no replicas", c.Cluster, i+1)
		}
		// internal_replication: a replicated local table copies rows between replicas itself, so
		// a Distributed insert writes one replica per shard.
		b.WriteString("  <shard><internal_replication>true</internal_replication>\n")
		for _, addr := range replicas {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return "", fmt.Errorf("clickhouse: node config: cluster %s, shard %d: %q is not host:port: %w", c.Cluster, i+1, addr, err)
			}
			fmt.Fprintf(&b, "    <replica><host>%s</host><port>%s</port></replica>\n", xmlText(host), xmlText(port))
		}
		b.WriteString("  </shard>\n")
	}
	fmt.Fprintf(&b, "</%s></remote_servers>\n", c.Cluster)
	if len(c.Macros) > 0 {
		names := make([]string, 0, len(c.Macros))
		for k := range c.Macros {
			if !identifier.MatchString(k) {
				return "", fmt.Errorf("clickhouse: node config: macro name %q is not a plain identifier", k)
			}
			names = append(names, k)
		}
		sort.Strings(names)
		b.WriteString("<macros>")
		for _, k := range names {
			fmt.Fprintf(&b, "<%s>%s</%s>", k, xmlText(c.Macros[k]), k)
		}
		b.WriteString("</macros>\n")
	}
	fmt.Fprintf(&b, "<background_distributed_schedule_pool_size>%d</background_distributed_schedule_pool_size>\n", c.BackgroundPoolSize)
	return b.String(), nil
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
