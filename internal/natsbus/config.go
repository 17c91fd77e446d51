package natsbus

import (
	"fmt"

	"github.com/zonewatch/zonewatch/internal/config"
)

// FromConfig maps the nats section of the configuration to connection and stream options, so that serve,
// the other commands and the tests connect and lay out the streams the same way. The connection's URLs
// are the configured ones; with an embedded server the caller puts its URL in.
func FromConfig(c config.NATS, name string) (ConnOptions, StreamOptions, error) {
	co := ConnOptions{URLs: c.URLs, Name: name, CredentialsFile: c.CredentialsFile, NkeySeedFile: c.NkeySeedFile,
		User: c.User, Password: c.Password, Token: c.Token}
	if c.TLS.Enabled() {
		tlsCfg, err := TLSConfig(c.TLS.CA, c.TLS.Cert, c.TLS.Key, c.TLS.InsecureSkipVerify)
		if err != nil {
			return co, StreamOptions{}, fmt.Errorf("nats.tls: %w", err)
		}
		co.TLS = tlsCfg
	}
	so := StreamOptions{MaxBytes: c.Stream.MaxBytes, MaxMsgs: c.Stream.MaxMsgs, MaxAge: c.Stream.MaxAge.Duration,
		AlertsMaxBytes: c.Stream.AlertsMaxBytes, DeadMaxBytes: c.Stream.DeadMaxBytes, Replicas: c.Stream.Replicas,
		Duplicates: c.Stream.Duplicates.Duration, Retention: c.Stream.Retention}
	return co, so, nil
}
