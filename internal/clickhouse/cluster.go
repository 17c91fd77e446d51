package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// # The cluster layout
//
// With MigrateOptions.Cluster set, Migrate lays the same migrations out for a ClickHouse cluster,
// on one node at a time (MigrateNodes runs it on each node in turn). DDL is never sent ON CLUSTER:
// that needs a Keeper-backed DDL queue, which not every cluster has (and clickhouse-local, the
// embedded server, refuses it), while node by node works everywhere and each node keeps its own
// schema_migrations, so a node that was down during a migration catches up on the next run.
//
// The migration files are the same as for a single server; the cluster layout rewrites their
// statements as it applies them (released files never change):
//
//   - Every table created with a *MergeTree engine becomes <name>_local on each node (its
//     Replicated*MergeTree twin, with Cluster.ReplicaPath and ReplicaName, when Replicated), and a
//     Distributed table takes the public name: events, alerts, dead_letters, events_hourly … So the
//     writer, the query engine and everything else read and write the public names unchanged; a
//     write through the Distributed table goes to the shard its sharding key picks, and a read
//     gathers every shard.
//   - ALTER TABLE on such a table alters <name>_local; afterwards the Distributed table's columns are
//     brought in line with the local table's (codecs, indexes and settings stay local).
//   - A materialised view reads <source>_local and writes TO <target>_local on the node it is on:
//     each node rolls up the events its shard stores, and the Distributed table over the rollup
//     gathers the shards' partial sums. The rollups are Summing/AggregatingMergeTree tables that are
//     always read with sum()/max() … GROUP BY, so partial rows from several shards add up exactly.
//     A view without TO would roll up one shard into a table nobody can read whole: refused.
//   - A plain view (alert_status) reads the public, Distributed tables, so it sees every shard.
//
// Sharding keys keep together the rows that must meet on one shard: every event of one log source
// (cityHash64(observer_host, observer_ip)), so a source's events and its rollup rows live on one
// node and ReplacingMergeTree copies of one event collapse there; every version of one alert, one
// token, one alert's actions. See DefaultShardingKeys.
//
// Replication (Replicated) needs Keeper or ZooKeeper and the macros {shard} and {replica} on every
// node, and remote_servers with internal_replication = true, so that a Distributed write goes to one
// replica per shard and replication copies it. It cannot be tested on the embedded server (no
// interserver listener); the DDL it produces is checked against golden files.

// LocalSuffix names a sharded table's local part on each node: events → events_local.
const LocalSuffix = "_local"

// Cluster describes the cluster a schema is laid out for.
type Cluster struct {
	// Name is the cluster in the servers' remote_servers configuration; required.
	Name string
	// Replicated makes the local tables Replicated*MergeTree (needs Keeper and the {shard} and
	// {replica} macros on every node).
	Replicated bool
	// ReplicaPath is the Keeper path of a replicated table; default
	// "/clickhouse/tables/{shard}/{database}/{table}" ({table} is the local name, e.g. events_local).
	ReplicaPath string
	// ReplicaName is the replica's name in that path; default "{replica}".
	ReplicaName string
	// ShardingKeys adds to or overrides DefaultShardingKeys, by public table name.
	ShardingKeys map[string]string
}

// DefaultShardingKeys returns the sharding key of each sharded table. A key must send every copy
// of a row (same id, re-delivered or re-versioned) to the same shard, or ReplacingMergeTree cannot
// collapse the copies.
func DefaultShardingKeys() map[string]string {
	return map[string]string{
		// One log source's events on one shard: searches and rollups per source stay on one node,
		// and a re-delivered event (same source) meets its first copy.
		"events": "cityHash64(observer_host, observer_ip)",
		// One sender's garbage together; a repeated dead letter has the same listener and peer.
		"dead_letters": "cityHash64(listener, peer)",
		// Every version of an alert (ReplacingMergeTree(created) by id) on one shard.
		"alerts":        "cityHash64(id)",
		"alert_actions": "cityHash64(alert_id)",
		"audit":         "cityHash64(request_id)",
		"api_tokens":    "cityHash64(token_sha256)",
		// Rollups are filled on each node by materialised views, never through their Distributed
		// tables; a key is needed only for a repair that inserts through them (RebuildRollups).
		"events_hourly":           "rand()",
		"proxy_categories_hourly": "rand()",
		"source_health_hourly":    "cityHash64(observer_host)",
		"user_activity_15m":       "rand()",
		"user_zones_hourly":       "rand()",
	}
}

func (c *Cluster) withDefaults() (*Cluster, error) {
	if c == nil {
		return nil, nil
	}
	out := *c
	if !identifier.MatchString(out.Name) {
		return nil, fmt.Errorf("clickhouse: migrate: cluster name %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", out.Name)
	}
	if out.ReplicaPath == "" {
		out.ReplicaPath = "/clickhouse/tables/{shard}/{database}/{table}"
	}
	if out.ReplicaName == "" {
		out.ReplicaName = "{replica}"
	}
	for _, s := range []string{out.ReplicaPath, out.ReplicaName} {
		if strings.ContainsAny(s, `'\`) {
			return nil, fmt.Errorf("clickhouse: migrate: replica path or name %q must not contain quotes or backslashes", s)
		}
	}
	keys := DefaultShardingKeys()
	for t, k := range out.ShardingKeys {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, ";") {
			return nil, fmt.Errorf("clickhouse: migrate: sharding key of table %s: %q is not an expression (want e.g. cityHash64(observer_host))", t, k)
		}
		keys[t] = k
	}
	out.ShardingKeys = keys
	return &out, nil
}

var (
	reCreateTable = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\.(\w+)\b`)
	reAlterTable  = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(\w+)\.(\w+)\b`)
	reCreateMV    = regexp.MustCompile(`(?is)^CREATE\s+MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?\w+\.\w+\s+TO\s`)
	reAnyMV       = regexp.MustCompile(`(?is)^CREATE\s+MATERIALIZED\s+VIEW\b`)
	reCreateView  = regexp.MustCompile(`(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\b`)
	reInsertFrom  = regexp.MustCompile(`(?is)^INSERT\s+INTO\s+\w+\.\w+\s*(?:\([^)]*\)\s*)?SELECT\b`)
	reMergeTree   = regexp.MustCompile(`\bENGINE\s*=\s*(\w*)MergeTree\b`)
)

// shardedTables returns the tables the migrations create with a *MergeTree engine: those the
// cluster layout splits into <name>_local and a Distributed <name>. It reads every migration, not
// only those still to apply, so that an ALTER in a later migration knows its table is sharded.
func shardedTables(migs []Migration) (map[string]bool, error) {
	sharded := map[string]bool{}
	for _, m := range migs {
		// The database name does not matter here: render with a placeholder.
		stmts, err := m.Statements("db")
		if err != nil {
			return nil, err
		}
		for _, s := range stmts {
			code := stripComments(s)
			if p := reCreateTable.FindStringSubmatch(code); p != nil && reMergeTree.MatchString(code) {
				sharded[p[2]] = true
			}
		}
	}
	return sharded, nil
}

// stripComments drops the comment lines a statement starts with (splitStatements keeps them).
func stripComments(s string) string {
	for {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "--") {
			return s
		}
		_, rest, ok := strings.Cut(s, "\n")
		if !ok {
			return ""
		}
		s = rest
	}
}

// clusterStatements rewrites one rendered statement of migration m for the cluster layout.
func (c *Cluster) clusterStatements(m Migration, db, stmt string, sharded map[string]bool) ([]string, error) {
	code := stripComments(stmt)
	local := func() string { return localRefs(code, db, sharded) }
	switch {
	case reCreateTable.MatchString(code):
		p := reCreateTable.FindStringSubmatch(code)
		table := p[2]
		if p[1] != db || !sharded[table] {
			return []string{local()}, nil
		}
		key, ok := c.ShardingKeys[table]
		if !ok {
			return nil, fmt.Errorf("clickhouse: migration %s: table %s has no sharding key for the cluster layout: add one to DefaultShardingKeys (or clickhouse.cluster.sharding_keys)", m.Name, table)
		}
		create := local()
		if c.Replicated {
			var err error
			if create, err = c.replicatedEngine(create); err != nil {
				return nil, fmt.Errorf("clickhouse: migration %s: %w", m.Name, err)
			}
		}
		dist := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s%s ENGINE = Distributed('%s', '%s', '%s%s', %s)",
			db, table, db, table, LocalSuffix, c.Name, db, table, LocalSuffix, key)
		return []string{create, dist}, nil
	case reAlterTable.MatchString(code), reCreateMV.MatchString(code):
		return []string{local()}, nil
	case reInsertFrom.MatchString(code):
		// A refill of a rollup from events (0009): on each node from its own shard into its own
		// part of the rollup, as the materialised views fill it.
		return []string{local()}, nil
	case reAnyMV.MatchString(code):
		return nil, fmt.Errorf("clickhouse: migration %s: a materialised view without TO cannot be laid out for a cluster (each node would fill a table of its own that no one reads whole): write it as CREATE MATERIALIZED VIEW … TO a table", m.Name)
	case reCreateView.MatchString(code):
		// A plain view reads the public, Distributed tables: it sees every shard.
		return []string{code}, nil
	}
	if localRefs(code, db, sharded) != code {
		return nil, fmt.Errorf("clickhouse: migration %s: the cluster layout does not know how to apply %q to sharded tables: extend clusterStatements", m.Name, firstLine(code))
	}
	return []string{code}, nil
}

// localRefs replaces db.<sharded table> by db.<table>_local. Migrations always name tables with
// their database ({{.Database}}.table), so this finds every reference.
func localRefs(sql, db string, sharded map[string]bool) string {
	re := regexp.MustCompile(`\b` + regexp.QuoteMeta(db) + `\.(\w+)\b`)
	return re.ReplaceAllStringFunc(sql, func(ref string) string {
		if t := ref[len(db)+1:]; sharded[t] {
			return ref + LocalSuffix
		}
		return ref
	})
}

// replicatedEngine turns ENGINE = XMergeTree[(args)] into ENGINE = ReplicatedXMergeTree('path',
// 'replica'[, args]).
func (c *Cluster) replicatedEngine(create string) (string, error) {
	loc := reMergeTree.FindStringSubmatchIndex(create)
	if loc == nil {
		return "", fmt.Errorf("no *MergeTree engine in %q", firstLine(create))
	}
	kind := create[loc[2]:loc[3]]
	if strings.HasPrefix(kind, "Replicated") {
		return create, nil
	}
	rest := create[loc[1]:]
	var args string
	if trimmed := strings.TrimLeft(rest, " \t"); strings.HasPrefix(trimmed, "(") {
		end, err := closingParen(trimmed)
		if err != nil {
			return "", fmt.Errorf("engine %sMergeTree: %w", kind, err)
		}
		args = strings.TrimSpace(trimmed[1:end])
		rest = trimmed[end+1:]
	}
	engine := fmt.Sprintf("ENGINE = Replicated%sMergeTree('%s', '%s'", kind, c.ReplicaPath, c.ReplicaName)
	if args != "" {
		engine += ", " + args
	}
	return create[:loc[0]] + engine + ")" + rest, nil
}

// closingParen returns the index of the parenthesis that closes s[0] == '(' (quotes respected).
func closingParen(s string) (int, error) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == '\\' {
				i++
			} else if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '`' || ch == '"':
			quote = ch
		case ch == '(':
			depth++
		case ch == ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced parentheses in %q", firstLine(s))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// checkLayout refuses to migrate a database laid out the other way: a single-server database is
// not converted into a cluster one (or back) in place.
func checkLayout(ctx context.Context, conn driver.Conn, db string, cluster *Cluster, sharded map[string]bool) error {
	names := slices.Sorted(maps.Keys(sharded))
	rows, err := conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = ? AND name IN (?)", db, names)
	if err != nil {
		return fmt.Errorf("clickhouse: migrate: read the tables of %s: %w", db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, engine string
		if err := rows.Scan(&name, &engine); err != nil {
			return fmt.Errorf("clickhouse: migrate: read the tables of %s: %w", db, err)
		}
		switch {
		case cluster != nil && engine != "Distributed":
			return fmt.Errorf("clickhouse: migrate: database %s has the single-server layout (table %s is %s) but clickhouse.cluster is configured: zonewatch does not convert it in place; migrate into a new database and copy the data with INSERT … SELECT", db, name, engine)
		case cluster == nil && engine == "Distributed":
			return fmt.Errorf("clickhouse: migrate: database %s has the cluster layout (table %s is Distributed) but no clickhouse.cluster is configured: name the cluster in the configuration", db, name)
		}
	}
	return rows.Err()
}

// checkCluster makes sure the node knows the cluster, before any Distributed table names it.
func checkCluster(ctx context.Context, conn driver.Conn, name string) error {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.clusters WHERE cluster = ?", name).Scan(&n); err != nil {
		return fmt.Errorf("clickhouse: migrate: read system.clusters: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("clickhouse: migrate: this server knows no cluster %q: add it to remote_servers in the server configuration of every node (see NodeConfig), or fix clickhouse.cluster.name", name)
	}
	return nil
}

// column is one column of a table as system.columns describes it: its definition is the type, and the
// default's kind and expression if it has one.
type column struct{ name, def, kind string }

// syncDistributed brings the columns of each Distributed table in line with its local table, after
// a migration altered the local one. Only names, types and defaults matter to a Distributed table.
func syncDistributed(ctx context.Context, conn driver.Conn, db string, sharded map[string]bool) error {
	cols := map[string][]column{}
	rows, err := conn.Query(ctx, "SELECT table, name, type, default_kind, default_expression FROM system.columns WHERE database = ? ORDER BY table, position", db)
	if err != nil {
		return fmt.Errorf("clickhouse: migrate: read the columns of %s: %w", db, err)
	}
	for rows.Next() {
		var table, name, typ, kind, expr string
		if err := rows.Scan(&table, &name, &typ, &kind, &expr); err != nil {
			rows.Close()
			return fmt.Errorf("clickhouse: migrate: read the columns of %s: %w", db, err)
		}
		def := typ
		if kind != "" {
			def += " " + kind + " " + expr
		}
		cols[table] = append(cols[table], column{name, def, kind})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, table := range slices.Sorted(maps.Keys(sharded)) {
		local, dist := cols[table+LocalSuffix], cols[table]
		if len(local) == 0 || len(dist) == 0 {
			continue // not created yet
		}
		have := map[string]string{}
		for _, c := range dist {
			have[c.name] = c.def
		}
		if len(columnOps(local, have)) == 0 {
			continue
		}
		// The Distributed table's ALIAS columns go first and come back with the rest: one may refer to
		// a column this ALTER drops or turns into an ALIAS (raw to message, migration 0013), and
		// ClickHouse refuses to drop a column an ALIAS depends on. A Distributed table stores nothing,
		// so dropping a column of its loses nothing.
		var ops []string
		for _, c := range dist {
			if c.kind == "ALIAS" {
				ops = append(ops, fmt.Sprintf("DROP COLUMN `%s`", c.name))
				delete(have, c.name)
			}
		}
		ops = append(ops, columnOps(local, have)...)
		q := fmt.Sprintf("ALTER TABLE %s.%s %s", db, table, strings.Join(ops, ", "))
		if err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("clickhouse: migrate: bring Distributed table %s.%s in line with %s%s: %s: %w", db, table, table, LocalSuffix, q, err)
		}
	}
	return nil
}

// columnOps returns the ALTER TABLE commands that make the columns have (name → definition) those of
// local, in local's order.
func columnOps(local []column, have map[string]string) []string {
	have = maps.Clone(have)
	var ops []string
	prev := ""
	for _, c := range local {
		def, ok := have[c.name]
		switch {
		case !ok:
			ops = append(ops, addColumn(c.name, c.def, prev))
		case def != c.def && (c.kind == "ALIAS" || strings.Contains(def, " ALIAS ")):
			// A column that became (or stopped being) an ALIAS cannot be modified in place (the
			// Distributed table's copy may carry a codec): drop it and add it again.
			ops = append(ops, fmt.Sprintf("DROP COLUMN `%s`", c.name), addColumn(c.name, c.def, prev))
		case def != c.def:
			ops = append(ops, fmt.Sprintf("MODIFY COLUMN `%s` %s", c.name, c.def))
		}
		delete(have, c.name)
		prev = c.name
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		ops = append(ops, fmt.Sprintf("DROP COLUMN `%s`", name))
	}
	return ops
}

// addColumn adds a column after prev, or first when prev is "".
func addColumn(name, def, prev string) string {
	if prev == "" {
		return fmt.Sprintf("ADD COLUMN `%s` %s FIRST", name, def)
	}
	return fmt.Sprintf("ADD COLUMN `%s` %s AFTER `%s`", name, def, prev)
}

// NodeMigration is what MigrateNodes did on one node.
type NodeMigration struct {
	Node    string   // host:port
	Applied []string // migrations applied there (none when it was current)
}

// MigrateNodes runs Migrate with opts (opts.Cluster required) on each node in turn, connecting
// with conn and each node's address in place of conn.Addr. It stops at the first node that fails
// and returns what the nodes before it did; run it again once the node is back (every node keeps
// its own schema_migrations, so the others have nothing left to do). nodes must hold every replica
// of every shard of the cluster: a node left out would lack the local tables its shard needs.
func MigrateNodes(ctx context.Context, nodes []string, conn ConnOptions, opts MigrateOptions) ([]NodeMigration, error) {
	if opts.Cluster == nil {
		return nil, fmt.Errorf("clickhouse: migrate nodes: MigrateOptions.Cluster is nil: name the cluster")
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("clickhouse: migrate nodes: no nodes: list the native host:port of every node of cluster %s", opts.Cluster.Name)
	}
	opts = opts.withDefaults()
	var done []NodeMigration
	for i, node := range nodes {
		applied, err := migrateNode(ctx, node, conn, opts, i == 0, len(nodes))
		if err != nil {
			return done, fmt.Errorf("node %d of %d (%s): %w", i+1, len(nodes), node, err)
		}
		opts.Logger.Info("ClickHouse node migrated", "node", node, "cluster", opts.Cluster.Name, "applied", len(applied))
		done = append(done, NodeMigration{Node: node, Applied: applied})
	}
	return done, nil
}

func migrateNode(ctx context.Context, node string, co ConnOptions, opts MigrateOptions, first bool, listed int) ([]string, error) {
	co.Addr = []string{node}
	co.MaxOpenConns = 2
	conn, err := Open(ctx, co)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if first {
		var replicas uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.clusters WHERE cluster = ?", opts.Cluster.Name).Scan(&replicas); err != nil {
			return nil, fmt.Errorf("clickhouse: migrate: read system.clusters: %w", err)
		}
		if int(replicas) > listed {
			return nil, fmt.Errorf("clickhouse: migrate: cluster %s has %d nodes in remote_servers but only %d are listed (clickhouse.cluster.nodes): list every node, or those left out lack the tables of their shard",
				opts.Cluster.Name, replicas, listed)
		}
	}
	return Migrate(ctx, conn, opts)
}

// ClusterSettings returns the connection settings (ConnOptions.Settings) for the writer and the
// query engine on a cluster layout.
//
// With background false (the default), an INSERT into a Distributed table returns only once every
// shard stored its rows (distributed_foreground_insert): while a shard is down the writer's INSERT
// fails and is retried, JetStream keeps the backlog (the only buffer between zonewatch's stages),
// and the writer acknowledges events only when they are on their shard. A retried INSERT carries
// the same insert_deduplication_token, so the shards that had stored their part drop the repeat.
//
// With background true, the node the writer is connected to queues the rows of an unreachable
// shard on its own disk and sends them when the shard is back (which needs
// background_distributed_schedule_pool_size > 0 on that node): the other shards stay current during
// an outage, but acknowledged events may then sit in that queue, out of sight of queries and of the
// writer's look-up of redelivered ids, and are only as safe as that node's disk.
func ClusterSettings(background bool) map[string]any {
	if background {
		return map[string]any{"distributed_foreground_insert": 0}
	}
	return map[string]any{"distributed_foreground_insert": 1}
}

// warnShardingKeys logs the Distributed tables whose sharding key differs from the configured one:
// a key is fixed when the table is created, so a key changed in the configuration later would
// otherwise look applied while it is not.
func warnShardingKeys(ctx context.Context, conn driver.Conn, db string, c *Cluster, sharded map[string]bool, log *slog.Logger) {
	rows, err := conn.Query(ctx, "SELECT name, engine_full FROM system.tables WHERE database = ? AND engine = 'Distributed'", db)
	if err != nil {
		log.Warn("could not read the Distributed tables to compare their sharding keys", "database", db, "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var name, engine string
		if err := rows.Scan(&name, &engine); err != nil {
			return
		}
		want, ok := c.ShardingKeys[name]
		if !ok || !sharded[name] {
			continue
		}
		prefix := fmt.Sprintf("Distributed('%s', '%s', '%s%s', ", c.Name, db, name, LocalSuffix)
		have := strings.TrimSuffix(strings.TrimPrefix(engine, prefix), ")")
		if have == engine || squeeze(have) != squeeze(want) {
			log.Warn("Distributed table keeps the engine it was created with, not the configured sharding key: to change it, once its distribution queue is empty, DROP TABLE it (it holds no data) on every node and migrate again",
				"table", db+"."+name, "engine", engine, "configured_key", want)
		}
	}
}

// squeeze drops spaces and backquotes, which ClickHouse adds or removes when it formats an expression.
func squeeze(s string) string {
	return strings.NewReplacer(" ", "", "\t", "", "\n", "", "`", "").Replace(s)
}
