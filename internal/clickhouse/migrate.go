package clickhouse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Migrations live in migrations/NNNN_name.sql, applied in NNNN order and never edited once
// released (a changed file is refused: add a new one instead). A file holds one or more
// statements; a statement ends at a line ending in ";" (comment lines aside). Statements must be
// idempotent (IF NOT EXISTS / IF EXISTS), because two processes may migrate at once and a
// migration that failed half-way is run again from its start. Templates: {{.Database}} is the
// target database.
//
//go:embed migrations/*.sql
var embeddedMigrations embed.FS

// MigrateOptions configures Migrate.
type MigrateOptions struct {
	// Database receives the tables; created when missing; default "zonewatch".
	Database string
	// Logger receives one line per applied migration; default discards.
	Logger *slog.Logger
	// FS replaces the embedded migrations (tests); it holds NNNN_name.sql files at its root.
	FS fs.FS
	// Cluster lays the schema out for a cluster (local tables and Distributed ones, see
	// cluster.go) on the node conn is connected to; nil: a single server. MigrateNodes runs
	// Migrate on every node of a cluster.
	Cluster *Cluster
}

// Migration is one parsed migration file.
type Migration struct {
	Version  uint32
	Name     string // file name without .sql, e.g. "0001_events"
	Checksum string // hex SHA-256 of the file as written (before templating)
	SQL      string // the file as written
}

// templateData is what migration files may reference. A cluster layout would add fields here
// (e.g. Cluster for ON CLUSTER, and the engine for replicated tables) without touching old files.
type templateData struct {
	Database string
}

var (
	migrationFile = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)
	identifier    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Migrate creates the database when missing and applies, in order, the migrations not yet
// recorded in its schema_migrations table. It returns the names of those it applied (none when
// the schema is current; on error, those applied before it) and refuses to go on when an applied
// migration's file has changed.
func Migrate(ctx context.Context, conn driver.Conn, opts MigrateOptions) (applied []string, err error) {
	opts = opts.withDefaults()
	if !identifier.MatchString(opts.Database) {
		return nil, fmt.Errorf("clickhouse: migrate: database name %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", opts.Database)
	}
	cluster, err := opts.Cluster.withDefaults()
	if err != nil {
		return nil, err
	}
	migs, err := LoadMigrations(opts.FS)
	if err != nil {
		return nil, err
	}
	plan, err := Plan(migs, opts.Database, cluster)
	if err != nil {
		return nil, err
	}
	if cluster != nil {
		if err := checkCluster(ctx, conn, cluster.Name); err != nil {
			return nil, err
		}
	}
	if err := ensureMigrationTable(ctx, conn, opts.Database); err != nil {
		return nil, err
	}
	if err := checkLayout(ctx, conn, opts.Database, cluster, plan.sharded); err != nil {
		return nil, err
	}
	done, err := appliedMigrations(ctx, conn, opts.Database)
	if err != nil {
		return nil, err
	}
	if err := checkApplied(migs, done, opts.Logger); err != nil {
		return nil, err
	}
	for _, m := range plan.Migrations {
		if _, ok := done[m.Version]; ok {
			continue
		}
		if err := applyMigration(ctx, conn, opts.Database, m, plan); err != nil {
			if appliedMeanwhile(ctx, conn, opts.Database, m.Version) {
				// Another process applied this migration, and a later one, while this one was on
				// its way: a statement can then fail on the later schema (0011 modifying the codec of
				// `message`, which 0013 has turned into an ALIAS). The other process's run stands.
				opts.Logger.Info("ClickHouse migration applied by another process meanwhile", "database", opts.Database, "migration", m.Name, "err", err)
				continue
			}
			return applied, err
		}
		opts.Logger.Info("applied ClickHouse migration", "database", opts.Database, "migration", m.Name)
		applied = append(applied, m.Name)
	}
	if cluster != nil {
		warnShardingKeys(ctx, conn, opts.Database, cluster, plan.sharded, opts.Logger)
	}
	return applied, nil
}

func (o MigrateOptions) withDefaults() MigrateOptions {
	if o.Database == "" {
		o.Database = "zonewatch"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FS == nil {
		sub, _ := fs.Sub(embeddedMigrations, "migrations")
		o.FS = sub
	}
	return o
}

// LoadMigrations reads NNNN_name.sql files from fsys (the embedded ones when nil), sorted by version.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	if fsys == nil {
		fsys = MigrateOptions{}.withDefaults().FS
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read migrations: %w", err)
	}
	var migs []Migration
	seen := map[uint32]string{}
	for _, ent := range entries {
		if ent.IsDir() || path.Ext(ent.Name()) != ".sql" {
			continue
		}
		m, err := readMigration(fsys, ent.Name())
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[m.Version]; ok {
			return nil, fmt.Errorf("clickhouse: migrations %s and %s share version %d: renumber the newer one", prev, m.Name, m.Version)
		}
		seen[m.Version] = m.Name
		migs = append(migs, m)
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].Version < migs[j].Version })
	return migs, nil
}

func readMigration(fsys fs.FS, name string) (Migration, error) {
	parts := migrationFile.FindStringSubmatch(name)
	if parts == nil {
		return Migration{}, fmt.Errorf("clickhouse: migration file %q: name it NNNN_lower_snake_name.sql", name)
	}
	v, _ := strconv.ParseUint(parts[1], 10, 32)
	if v == 0 {
		return Migration{}, fmt.Errorf("clickhouse: migration file %q: versions start at 0001", name)
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Migration{}, fmt.Errorf("clickhouse: read migration %s: %w", name, err)
	}
	sum := sha256.Sum256(body)
	return Migration{
		Version:  uint32(v),
		Name:     strings.TrimSuffix(name, ".sql"),
		Checksum: hex.EncodeToString(sum[:]),
		SQL:      string(body),
	}, nil
}

// Statements renders the migration for database and splits it into statements.
func (m Migration) Statements(database string) ([]string, error) {
	tmpl, err := template.New(m.Name).Option("missingkey=error").Parse(m.SQL)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: migration %s: template: %w", m.Name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, templateData{Database: database}); err != nil {
		return nil, fmt.Errorf("clickhouse: migration %s: template: %w", m.Name, err)
	}
	return splitStatements(buf.String()), nil
}

// PlannedMigration is a migration with the statements Migrate runs for it on one node.
type PlannedMigration struct {
	Migration
	Statements []string
}

// MigrationPlan is what Migrate runs on one node: every migration's statements, for a single
// server or rewritten for the cluster layout.
type MigrationPlan struct {
	Migrations []PlannedMigration
	// sharded names the tables the cluster layout splits into <name>_local and a Distributed
	// <name>; for a single server it is used to check that the database was not laid out for one.
	sharded map[string]bool
	cluster bool
}

// Plan renders migs for database db, for a single server (cluster nil) or laid out for cluster.
func Plan(migs []Migration, db string, cluster *Cluster) (*MigrationPlan, error) {
	sharded, err := shardedTables(migs)
	if err != nil {
		return nil, err
	}
	plan := &MigrationPlan{sharded: sharded, cluster: cluster != nil}
	if cluster != nil {
		if cluster, err = cluster.withDefaults(); err != nil {
			return nil, err
		}
	}
	for _, m := range migs {
		stmts, err := m.Statements(db)
		if err != nil {
			return nil, err
		}
		if cluster != nil {
			var laid []string
			for _, s := range stmts {
				out, err := cluster.clusterStatements(m, db, s, sharded)
				if err != nil {
					return nil, err
				}
				laid = append(laid, out...)
			}
			stmts = laid
		}
		plan.Migrations = append(plan.Migrations, PlannedMigration{Migration: m, Statements: stmts})
	}
	return plan, nil
}

// splitStatements cuts at lines ending in ";" and drops pieces holding only comments.
func splitStatements(sql string) []string {
	var stmts []string
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimSpace(cur.String()); hasCode(s) {
			stmts = append(stmts, strings.TrimSuffix(s, ";"))
		}
		cur.Reset()
	}
	for line := range strings.Lines(sql) {
		cur.WriteString(line)
		t := strings.TrimSpace(line)
		if strings.HasSuffix(t, ";") && !strings.HasPrefix(t, "--") {
			flush()
		}
	}
	flush()
	return stmts
}

func hasCode(s string) bool {
	for line := range strings.Lines(s) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			return true
		}
	}
	return false
}

func ensureMigrationTable(ctx context.Context, conn driver.Conn, db string) error {
	stmts := []string{
		"CREATE DATABASE IF NOT EXISTS " + db,
		// ReplacingMergeTree: two processes migrating at once may both record a version; the
		// copies collapse, and reads use FINAL meanwhile.
		"CREATE TABLE IF NOT EXISTS " + db + ".schema_migrations (version UInt32, name String, checksum String, applied_at DateTime64(3)) " +
			"ENGINE = ReplacingMergeTree ORDER BY version",
	}
	for _, s := range stmts {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("clickhouse: migrate: %s: %w", s, err)
		}
	}
	return nil
}

type appliedMigration struct {
	name, checksum string
}

func appliedMigrations(ctx context.Context, conn driver.Conn, db string) (map[uint32]appliedMigration, error) {
	rows, err := conn.Query(ctx, "SELECT version, name, checksum FROM "+db+".schema_migrations FINAL")
	if err != nil {
		return nil, fmt.Errorf("clickhouse: migrate: read %s.schema_migrations: %w", db, err)
	}
	defer rows.Close()
	done := map[uint32]appliedMigration{}
	for rows.Next() {
		var v uint32
		var a appliedMigration
		if err := rows.Scan(&v, &a.name, &a.checksum); err != nil {
			return nil, fmt.Errorf("clickhouse: migrate: read %s.schema_migrations: %w", db, err)
		}
		done[v] = a
	}
	return done, rows.Err()
}

// checkApplied refuses edited migrations; migrations unknown to this binary come from a newer
// release and are only reported, so an older instance keeps running during a rolling upgrade.
func checkApplied(migs []Migration, done map[uint32]appliedMigration, logger *slog.Logger) error {
	known := map[uint32]bool{}
	var errs []error
	for _, m := range migs {
		known[m.Version] = true
		if a, ok := done[m.Version]; ok && a.checksum != m.Checksum {
			errs = append(errs, fmt.Errorf("migration %s was applied with checksum %s but the file now has %s: released migrations must not change; restore it and add a new migration instead",
				m.Name, short(a.checksum), short(m.Checksum)))
		}
	}
	for v, a := range done {
		if !known[v] {
			logger.Warn("database has a migration this binary does not know (newer release?)", "version", v, "name", a.name)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("clickhouse: migrate: %w", errors.Join(errs...))
	}
	return nil
}

func short(sum string) string { return sum[:min(12, len(sum))] }

// appliedMeanwhile reports whether schema_migrations now records version.
func appliedMeanwhile(ctx context.Context, conn driver.Conn, db string, version uint32) bool {
	done, err := appliedMigrations(ctx, conn, db)
	if err != nil {
		return false
	}
	_, ok := done[version]
	return ok
}

func applyMigration(ctx context.Context, conn driver.Conn, db string, m PlannedMigration, plan *MigrationPlan) error {
	stmts := m.Statements
	for i, s := range stmts {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("clickhouse: migration %s, statement %d of %d, failed: %w (fix the file if unreleased, then run again; statements are idempotent)",
				m.Name, i+1, len(stmts), err)
		}
	}
	if plan.cluster {
		if err := syncDistributed(ctx, conn, db, plan.sharded); err != nil {
			return fmt.Errorf("clickhouse: migration %s: %w", m.Name, err)
		}
	}
	err := conn.Exec(ctx, "INSERT INTO "+db+".schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
		m.Version, m.Name, m.Checksum, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("clickhouse: migration %s ran but recording it in %s.schema_migrations failed: %w", m.Name, db, err)
	}
	return nil
}
