package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// openClickHouse starts the embedded ClickHouse when the configuration names no server, connects, and
// applies the migrations. stop releases what it started.
func openClickHouse(ctx context.Context, cfg *config.Config, log *slog.Logger) (conn driver.Conn, emb *clickhouse.Embedded, stop func(), err error) {
	addrs := cfg.ClickHouse.Addr
	stop = func() {}
	if cfg.EmbeddedClickHouse() {
		dir, _ := filepath.Abs(cfg.ClickHouse.Embedded.DataDir)
		emb, err = clickhouse.StartEmbedded(ctx, clickhouse.EmbeddedOptions{
			LibPath: cfg.ClickHouse.Embedded.Library, DataDir: dir,
			TCPPort: cfg.ClickHouse.Embedded.TCPPort, HTTPPort: cfg.ClickHouse.Embedded.HTTPPort,
			ListenHost: "127.0.0.1", Logger: log, RestartOnExit: true,
		})
		if err != nil {
			return nil, nil, stop, fmt.Errorf("start the embedded ClickHouse: %w", err)
		}
		stop = func() {
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := emb.Stop(sctx); err != nil {
				log.Warn("embedded ClickHouse did not stop cleanly", "err", err)
			}
		}
		addrs = []string{emb.NativeAddr()}
		log.Info("embedded ClickHouse ready", "native", emb.NativeAddr(), "http", emb.HTTPAddr(), "data", dir)
	}
	co, err := chConnOptions(cfg, addrs)
	if err != nil {
		stop()
		return nil, nil, func() {}, err
	}
	conn, err = clickhouse.Open(ctx, co)
	if err != nil {
		stop()
		return nil, nil, func() {}, err
	}
	applied, err := migrateClickHouse(ctx, cfg, conn, co, log)
	if err != nil {
		_ = conn.Close()
		stop()
		return nil, nil, func() {}, err
	}
	if len(applied) > 0 {
		log.Info("ClickHouse schema migrated", "database", cfg.ClickHouse.Database, "applied", applied)
	}
	inner := stop
	return conn, emb, func() { _ = conn.Close(); inner() }, nil
}

// openNATS starts the embedded NATS server when the configuration names no URLs, connects, and ensures
// the streams. stop releases what it started.
func openNATS(ctx context.Context, cfg *config.Config, log *slog.Logger, name string) (nc *nats.Conn, js jetstream.JetStream, stop func(), err error) {
	urls := cfg.NATS.URLs
	stop = func() {}
	if cfg.EmbeddedNATS() {
		srv, err := natsbus.StartServer(natsbus.ServerOptions{Listen: cfg.NATS.Embedded.Listen, DataDir: cfg.NATS.Embedded.DataDir})
		if err != nil {
			return nil, nil, stop, err
		}
		stop = srv.Shutdown
		urls = []string{srv.ClientURL()}
		log.Info("embedded NATS JetStream ready", "url", srv.ClientURL(), "data", cfg.NATS.Embedded.DataDir)
	}
	co, so, err := natsbus.FromConfig(cfg.NATS, name)
	if err != nil {
		stop()
		return nil, nil, func() {}, err
	}
	co.URLs, co.Logger, so.Logger = urls, log, log
	nc, err = natsbus.Connect(co)
	if err != nil {
		stop()
		return nil, nil, func() {}, err
	}
	// Room for the publisher's in-flight bound (pipeline.DefaultMaxInFlight) with margin: beyond this
	// nats.go stalls each async publish for 200 ms.
	js, err = jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4*pipeline.DefaultMaxInFlight), jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err == nil {
		err = natsbus.EnsureStreams(ctx, js, so)
	}
	if err != nil {
		nc.Close()
		stop()
		return nil, nil, func() {}, err
	}
	inner := stop
	return nc, js, func() { _ = nc.Drain(); nc.Close(); inner() }, nil
}

// withClickHouse loads the configuration, opens (and migrates) ClickHouse, runs fn and releases what it
// started: the shape of the commands that only need the store.
func withClickHouse(ctx context.Context, g *globals, fn func(cfg *config.Config, conn driver.Conn, log *slog.Logger) error) error {
	cfg, err := config.Load(g.config, nil)
	if err != nil {
		return err
	}
	log := g.logger()
	useRunningEmbedded(cfg, log)
	conn, _, stop, err := openClickHouse(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	return fn(cfg, conn, log)
}

// useRunningEmbedded points the configuration at the embedded ClickHouse of a running zonewatch serve, when
// one answers on the configured port: serve owns the data directory, so a second embedded server could
// not start on it, and the commands that only read or administer the store (query, report, retention,
// migrate, rules backtest) should work while serve runs.
func useRunningEmbedded(cfg *config.Config, log *slog.Logger) {
	port := cfg.ClickHouse.Embedded.TCPPort
	if !cfg.EmbeddedClickHouse() || port == 0 {
		return
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return
	}
	_ = c.Close()
	cfg.ClickHouse.Addr = []string{addr}
	log.Info("using the embedded ClickHouse of the running zonewatch serve", "native", addr)
}
