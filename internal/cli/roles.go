package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/config"
)

// The roles of `zonewatch serve --role`: each kind of process can run alone and be scaled on its own.
const (
	RoleIngest = "ingest" // syslog listeners and followed files → JetStream
	RoleWriter = "writer" // JetStream → ClickHouse (events, dead letters), retention
	RoleRules  = "rules"  // the rule engine's consumer → alerts
	RoleAPI    = "api"    // the query HTTP API
)

var allRoles = []string{RoleIngest, RoleWriter, RoleRules, RoleAPI}

// roleSet is the roles one serve process runs. Every process serves /metrics and /healthz.
type roleSet struct {
	Ingest, Writer, Rules, API bool
}

// parseRoles reads "all" or a comma-separated list such as "ingest" or "writer,rules".
func parseRoles(s string) (roleSet, error) {
	var r roleSet
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "all":
			r = roleSet{true, true, true, true}
		case RoleIngest:
			r.Ingest = true
		case RoleWriter:
			r.Writer = true
		case RoleRules:
			r.Rules = true
		case RoleAPI:
			r.API = true
		default:
			return r, fmt.Errorf("--role %q: %q is not a role (want all, or a comma-separated list of %s)", s, name, strings.Join(allRoles, ", "))
		}
	}
	return r, nil
}

func (r roleSet) all() bool { return r.Ingest && r.Writer && r.Rules && r.API }

func (r roleSet) String() string {
	var out []string
	for i, on := range []bool{r.Ingest, r.Writer, r.Rules, r.API} {
		if on {
			out = append(out, allRoles[i])
		}
	}
	return strings.Join(out, ",")
}

// needsNATS: ingest publishes, writer and rules consume; the API reads ClickHouse alone.
func (r roleSet) needsNATS() bool { return r.Ingest || r.Writer || r.Rules }

// needsClickHouse: ingest never talks to ClickHouse (JetStream is the only buffer between processes).
func (r roleSet) needsClickHouse() bool { return r.Writer || r.Rules || r.API }

// check refuses embedded servers in a process that runs only some roles: the other processes could not
// reach them, and a second embedded server on the same data directory fails on its lock.
func (r roleSet) check(cfg *config.Config) error {
	if r.all() {
		return nil
	}
	if r.needsNATS() && cfg.EmbeddedNATS() {
		return fmt.Errorf("--role %s: processes that split the roles meet on an external NATS: set nats.urls (the embedded NATS runs only with --role all)", r)
	}
	if r.needsClickHouse() && cfg.EmbeddedClickHouse() {
		return fmt.Errorf("--role %s: processes that split the roles share an external ClickHouse: set clickhouse.addr (the embedded ClickHouse runs only with --role all)", r)
	}
	return nil
}

// trim is cfg without what this process does not run: no listeners or files without ingest, no rules
// without rules. It is a copy; the caller's configuration is unchanged.
func (r roleSet) trim(cfg *config.Config) *config.Config {
	c := *cfg
	if !r.Ingest {
		c.Listeners, c.Files = nil, nil
	}
	if !r.Rules {
		c.Rules.Dir = ""
	}
	return &c
}

// openClickHouse opens (and migrates) ClickHouse when a role needs it; otherwise conn is nil.
func (r roleSet) openClickHouse(ctx context.Context, cfg *config.Config, log *slog.Logger) (driver.Conn, *clickhouse.Embedded, func(), error) {
	if !r.needsClickHouse() {
		return nil, nil, func() {}, nil
	}
	return openClickHouse(ctx, cfg, log)
}

// openNATS connects (and ensures the streams) when a role needs it; otherwise the connection is nil.
func (r roleSet) openNATS(ctx context.Context, cfg *config.Config, log *slog.Logger, name string) (*nats.Conn, jetstream.JetStream, func(), error) {
	if !r.needsNATS() {
		return nil, nil, func() {}, nil
	}
	return openNATS(ctx, cfg, log, name)
}

// defaultRoles is $ZONEWATCH_ROLE (set per instance by deploy/systemd/zonewatch@.service), or all.
func defaultRoles() string {
	if v := os.Getenv("ZONEWATCH_ROLE"); v != "" {
		return v
	}
	return "all"
}

// serve runs every role in one process: the quick start's and the tests' shape.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, readyFile string) error {
	all, _ := parseRoles("all")
	return serveRoles(ctx, cfg, log, readyFile, all)
}

// health is /healthz: the stores this process uses answer.
func health(ctx context.Context, ch driver.Conn, nc *nats.Conn) error {
	if ch != nil {
		if err := ch.Ping(ctx); err != nil {
			return fmt.Errorf("clickhouse: %w", err)
		}
	}
	if nc != nil && !nc.IsConnected() {
		return fmt.Errorf("nats: not connected (%s)", nc.Status())
	}
	return nil
}
