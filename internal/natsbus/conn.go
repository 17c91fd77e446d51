package natsbus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ConnOptions say how to reach NATS.
type ConnOptions struct {
	URLs []string
	Name string // client name, shown in the server's connection list
	// CredentialsFile is a decentralised-auth .creds file (user JWT and nkey seed).
	CredentialsFile string
	// NkeySeedFile holds a user's nkey seed (SU…), for servers that list nkey users without JWTs.
	NkeySeedFile   string
	User, Password string
	Token          string
	TLS            *tls.Config
	Logger         *slog.Logger
}

// Connect opens a connection that reconnects forever: a NATS outage must slow zonewatch down, not stop it.
func Connect(opts ConnOptions) (*nats.Conn, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	no := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.ReconnectBufSize(64 << 20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("NATS disconnected", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("NATS reconnected", "url", c.ConnectedUrl()) }),
	}
	if opts.CredentialsFile != "" {
		no = append(no, nats.UserCredentials(opts.CredentialsFile))
	}
	if opts.NkeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(opts.NkeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("NATS nkey seed file %s: %w", opts.NkeySeedFile, err)
		}
		no = append(no, o)
	}
	if opts.User != "" {
		no = append(no, nats.UserInfo(opts.User, opts.Password))
	}
	if opts.Token != "" {
		no = append(no, nats.Token(opts.Token))
	}
	if opts.TLS != nil {
		no = append(no, nats.Secure(opts.TLS))
	}
	url := strings.Join(opts.URLs, ",")
	nc, err := nats.Connect(url, no...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w%s", url, err, eachServer(opts.URLs, no, err))
	}
	return nc, nil
}

// eachServer says why each server refused, when there are several: nats.go then reports only "no
// servers available", which hides an authorization or TLS error behind a node that is merely down.
func eachServer(urls []string, no []nats.Option, err error) string {
	if len(urls) < 2 || !errors.Is(err, nats.ErrNoServers) {
		return ""
	}
	var why []string
	for _, u := range urls {
		one := append(slices.Clone(no), nats.Timeout(2*time.Second))
		nc, err := nats.Connect(u, one...)
		if err == nil {
			nc.Close()
			why = append(why, u+": reachable now")
			continue
		}
		why = append(why, u+": "+err.Error())
	}
	return " (" + strings.Join(why, "; ") + ")"
}

// TLSConfig builds a client or server TLS configuration from PEM files; empty names are left out.
func TLSConfig(caFile, certFile, keyFile string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // operator's explicit choice
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
		cfg.ClientCAs = pool
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load certificate %s / key %s: %w", certFile, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
