// Package clusterit holds the integration tests of zonewatch on a sharded ClickHouse cluster: two
// embedded ClickHouse processes as two shards, migrated node by node, written to by the writer and
// read by the query engine through the Distributed tables, with a shard killed and restarted.
// It has no code of its own.
package clusterit
