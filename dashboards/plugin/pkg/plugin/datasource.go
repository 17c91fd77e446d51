// Package plugin is the Go backend of zonewatch's Grafana data source (plugin id
// zonewatch-zonewatch-datasource): data frames for every query type of the query editor, health
// checks, resources for the editor (filter validation, fields, variable values) and a live stream
// of new alerts.
//
// Every read of events goes through package query, which enforces the zone scope below the plugin:
// the plugin maps the Grafana user to a zonewatch role and scope (Settings.Identify) and hands the
// scope to the engine. The alerts and source-health reads that query has no call for are small SQL
// reads here, with the same scope rule (an alert whose zones include a hidden zone is hidden).
package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/zonewatch/zonewatch/query"
)

// PluginID is the plugin's id in plugin.json.
const PluginID = "zonewatch-zonewatch-datasource"

// Datasource is one configured zonewatch data source: a ClickHouse connection pool and a query
// engine over it. It is safe for concurrent use.
type Datasource struct {
	settings *Settings
	conn     driver.Conn
	engine   *query.Engine
	now      func() time.Time
	logger   log.Logger
	// broken is why the settings are unusable: every call answers with it, so that "Save & test"
	// and each panel say what to fix instead of a bare plugin error.
	broken error
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ backend.StreamHandler         = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewDatasource is the instance factory given to datasource.Manage: Grafana calls it for each data
// source (and again when its settings change). It does not contact ClickHouse, so that a server
// that is down shows up in CheckHealth and in each query's error rather than as a broken instance.
func NewDatasource(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	d, err := newDatasource(ctx, s)
	if err != nil {
		return &Datasource{broken: err, logger: log.DefaultLogger.With("datasource", s.Name)}, nil
	}
	return d, nil
}

func newDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (*Datasource, error) {
	st, err := ParseSettings(s)
	if err != nil {
		return nil, err
	}
	tlsConf, err := st.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("settings of data source %q: %w", s.Name, err)
	}
	conn, err := ch.Open(&ch.Options{
		Protocol: ch.Native,
		Addr:     []string{st.Address},
		// No default database: every statement names it (engine and reads here), and a handshake
		// naming a database that does not exist aborts the embedded ClickHouse (chDB 26.7,
		// measured), which a typo in the data source's settings must not do.
		Auth:         ch.Auth{Username: st.Username, Password: st.Password},
		TLS:          tlsConf,
		DialTimeout:  10 * time.Second,
		ReadTimeout:  2 * time.Minute,
		MaxOpenConns: 8,
		MaxIdleConns: 4,
		Compression:  &ch.Compression{Method: ch.CompressionLZ4},
		ClientInfo:   ch.ClientInfo{Products: []struct{ Name, Version string }{{Name: "zonewatch-grafana"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("data source %q: ClickHouse at %s: %w", s.Name, st.Address, err)
	}
	engine, err := query.New(query.Options{
		Conn:      conn,
		Database:  st.Database,
		Sources:   query.Rollups(),
		Evaluator: query.ExprEvaluator{},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("data source %q: %w", s.Name, err)
	}
	return &Datasource{settings: st, conn: conn, engine: engine, now: time.Now, logger: log.DefaultLogger.With("datasource", s.Name)}, nil
}

// Dispose closes the connection pool when Grafana replaces or removes the instance.
func (d *Datasource) Dispose() {
	if d.conn == nil {
		return
	}
	if err := d.conn.Close(); err != nil {
		d.logger.Warn("close ClickHouse connection", "err", err)
	}
}

// CheckHealth reports whether ClickHouse answers, its version, and how many events the database
// holds; it fails with what to do when the server or the events table is missing.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if d.broken != nil {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: d.broken.Error()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	fail := func(format string, a ...any) (*backend.CheckHealthResult, error) {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: fmt.Sprintf(format, a...)}, nil
	}
	var version string
	if err := d.conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return fail("ClickHouse at %s does not answer (user %q): %v: check the address (the native port, 9000 or 9440 with TLS), the credentials and TLS", d.settings.Address, d.settings.Username, err)
	}
	var n uint64
	if err := d.conn.QueryRow(ctx, "SELECT count() FROM "+d.settings.Database+".events").Scan(&n); err != nil {
		var ex *ch.Exception
		if errors.As(err, &ex) && (ex.Code == 60 || ex.Code == 81) { // UNKNOWN_TABLE, UNKNOWN_DATABASE
			return fail("ClickHouse %s at %s answers, but database %s has no events table: run `zonewatch migrate` against it, or correct the database name", version, d.settings.Address, d.settings.Database)
		}
		return fail("ClickHouse %s at %s: counting %s.events failed: %v", version, d.settings.Address, d.settings.Database, err)
	}
	return &backend.CheckHealthResult{
		Status:  backend.HealthStatusOk,
		Message: fmt.Sprintf("ClickHouse %s at %s, database %s: %d events", version, d.settings.Address, d.settings.Database, n),
	}, nil
}
