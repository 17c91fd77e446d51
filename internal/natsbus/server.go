// Package natsbus is zonewatch's NATS plumbing: the embedded JetStream server, connecting to an external
// cluster, the streams and the subjects that cross process boundaries.
package natsbus

import (
	"fmt"
	"net"
	"net/url"
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
	// Name is the server's name, unique within a cluster; default "zonewatch-embedded".
	Name string
	// Cluster, when set, makes this server one node of a JetStream cluster. Production runs an external
	// NATS cluster (nats.urls); embedded cluster nodes are for tests and for trying replication on one host.
	Cluster *ClusterOptions
}

// ClusterOptions join an embedded server to a JetStream cluster.
type ClusterOptions struct {
	// Name is the cluster's name, the same on every node.
	Name string
	// Listen is host:port for routes from the other nodes; port 0 picks a free one (see ClusterURL).
	Listen string
	// Routes are the nats-route://host:port URLs of the cluster's nodes (this one's may be listed too, so
	// every node can have the same list). JetStream refuses to start a cluster node without routes.
	Routes []string
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
	port, err := listenPort(portStr)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS listen port %q: %w", portStr, err)
	}
	if opts.Name == "" {
		opts.Name = "zonewatch-embedded"
	}
	so := &server.Options{
		ServerName:            opts.Name,
		Host:                  host,
		Port:                  port,
		JetStream:             true,
		StoreDir:              opts.DataDir,
		JetStreamMaxStore:     opts.MaxStore,
		NoSigs:                true,
		MaxPayload:            8 << 20,
		DisableShortFirstPing: true,
	}
	if opts.Cluster != nil {
		if err := clusterOptions(so, *opts.Cluster); err != nil {
			return nil, err
		}
	}
	ns, err := server.NewServer(so)
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

func listenPort(s string) (int, error) {
	port, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return port, nil
}

func clusterOptions(so *server.Options, c ClusterOptions) error {
	if c.Name == "" {
		return fmt.Errorf("embedded NATS server %s: a cluster node needs a cluster name", so.ServerName)
	}
	host, portStr, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("embedded NATS cluster listen address %q: %w (want host:port)", c.Listen, err)
	}
	port, err := listenPort(portStr)
	if err != nil {
		return fmt.Errorf("embedded NATS cluster listen port %q: %w", portStr, err)
	}
	if len(c.Routes) == 0 {
		return fmt.Errorf("embedded NATS server %s: a JetStream cluster node needs routes: list every node's nats-route://host:port", so.ServerName)
	}
	so.Cluster = server.ClusterOpts{Name: c.Name, Host: host, Port: port}
	for _, r := range c.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return fmt.Errorf("embedded NATS cluster route %q is not a URL (want nats-route://host:port)", r)
		}
		so.Routes = append(so.Routes, u)
	}
	return nil
}

// Name is the server's name (as JetStream reports stream and consumer leaders).
func (s *Server) Name() string { return s.ns.Name() }

// ClusterURL is the nats-route:// URL other cluster nodes route to; "" when not clustered.
func (s *Server) ClusterURL() string {
	a := s.ns.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats-route://" + a.String()
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it; JetStream data is flushed to disk.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
