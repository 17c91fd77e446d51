package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ConnOptions configures Open. Zero values pick the documented defaults.
type ConnOptions struct {
	// Addr lists host:port of the native protocol (9000, or 9440 with TLS); required.
	Addr []string
	// Database is the default database of the connection; default "default".
	Database string
	// Username and Password authenticate; default user "default" with no password.
	Username, Password string
	// TLS enables TLS when set.
	TLS *tls.Config
	// DialTimeout bounds connecting, and waiting for a free pooled connection; default 10s.
	DialTimeout time.Duration
	// ReadTimeout bounds each read from the server; default 5m (long queries read nothing for a while).
	ReadTimeout time.Duration
	// MaxOpenConns caps the pool; default 10.
	MaxOpenConns int
	// Settings are ClickHouse settings sent with every query of the connection, e.g.
	// ClusterSettings for a cluster layout.
	Settings map[string]any
}

// Open connects with the native protocol and LZ4 compression, and pings before it returns so a
// bad address or credential shows up here rather than at the first insert.
func Open(ctx context.Context, opts ConnOptions) (driver.Conn, error) {
	if len(opts.Addr) == 0 {
		return nil, errors.New("clickhouse: open: ConnOptions.Addr is empty: give at least one host:port of the native protocol")
	}
	conn, err := ch.Open(opts.driverOptions())
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %v: %w", opts.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("clickhouse: ping %v (database %q, user %q): %w: check that the server runs, the address is its native port and the credentials are right",
			opts.Addr, opts.Database, opts.Username, err)
	}
	return conn, nil
}

func (o ConnOptions) driverOptions() *ch.Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 5 * time.Minute
	}
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = 10
	}
	opts := &ch.Options{
		Protocol: ch.Native,
		Addr:     o.Addr,
		Auth: ch.Auth{
			Database: o.Database,
			Username: o.Username,
			Password: o.Password,
		},
		TLS:          o.TLS,
		DialTimeout:  o.DialTimeout,
		ReadTimeout:  o.ReadTimeout,
		MaxOpenConns: o.MaxOpenConns,
		// The driver's idle default (5) above a smaller MaxOpenConns would be meaningless.
		MaxIdleConns: min(5, o.MaxOpenConns),
		Compression:  &ch.Compression{Method: ch.CompressionLZ4},
	}
	if len(o.Settings) > 0 {
		opts.Settings = ch.Settings(o.Settings)
	}
	opts.ClientInfo.Products = append(opts.ClientInfo.Products, struct{ Name, Version string }{Name: "zonewatch"})
	return opts
}
