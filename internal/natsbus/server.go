// Package natsbus is zonewatch's NATS plumbing: the embedded JetStream server, connecting to an external
// cluster, the streams and the subjects that cross process boundaries.
package natsbus

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions configure the embedded nats-server.
type ServerOptions struct {
	// Listen is host:port for clients; port 0 picks a free one.
	Listen string
	// DataDir holds JetStream's file storage; it survives restarts.
	DataDir string
	// MaxStore caps JetStream's disk use (0: the server's default).
	MaxStore int64
}

// Server is an embedded JetStream server.
type Server struct {
	ns *server.Server
}

// StartServer starts an embedded nats-server with JetStream and waits until it accepts clients.
func StartServer(opts ServerOptions) (*Server, error) {
	host, portStr, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS listen address %q: %w (want host:port)", opts.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS listen port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{
		ServerName:            "zonewatch-embedded",
		Host:                  host,
		Port:                  port,
		JetStream:             true,
		StoreDir:              opts.DataDir,
		JetStreamMaxStore:     opts.MaxStore,
		NoSigs:                true,
		MaxPayload:            8 << 20,
		DisableShortFirstPing: true,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS on %s did not become ready in 10s: is the port taken? (set nats.embedded.listen)", opts.Listen)
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it; JetStream data is flushed to disk.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
