// Package natstest starts a real embedded JetStream server with zonewatch's streams, for the tests and
// benchmarks of every package that publishes or consumes events.
package natstest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// Bus is a running server, a connection to it and its JetStream context. The test's cleanup stops them.
type Bus struct {
	Server *natsbus.Server
	Conn   *nats.Conn
	JS     jetstream.JetStream
}

// Start starts a server on a free loopback port with its data in the test's temporary directory,
// connects, and creates the streams with so.
func Start(tb testing.TB, so natsbus.StreamOptions, opts ...jetstream.JetStreamOpt) *Bus {
	tb.Helper()
	srv, err := natsbus.StartServer(natsbus.ServerOptions{Listen: "127.0.0.1:0", DataDir: filepath.Join(tb.TempDir(), "nats")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Shutdown)
	// The connection's reconnect warnings at shutdown are noise in a test's output.
	nc, err := natsbus.Connect(natsbus.ConnOptions{URLs: []string{srv.ClientURL()}, Name: tb.Name(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := natsbus.EnsureStreams(context.Background(), js, so); err != nil {
		tb.Fatal(err)
	}
	return &Bus{Server: srv, Conn: nc, JS: js}
}
