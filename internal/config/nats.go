package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// validateNATS checks the nats section: URLs, one way to authenticate, TLS files, stream settings.
func (c *Config) validateNATS() error {
	n := &c.NATS
	for i, u := range n.URLs {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || !validNATSScheme(p.Scheme) {
			return &Error{Key: fmt.Sprintf("nats.urls[%d]", i), Problem: fmt.Sprintf("%q is not a NATS URL (want nats://host:4222 or tls://host:4222)", u)}
		}
	}
	var auth []string
	for key, v := range map[string]string{"credentials_file": n.CredentialsFile, "nkey_seed_file": n.NkeySeedFile, "user": n.User, "token": n.Token} {
		if v != "" {
			auth = append(auth, "nats."+key)
		}
	}
	slices.Sort(auth)
	if len(auth) > 1 {
		return &Error{Key: "nats", Problem: fmt.Sprintf("%s are set: give one way to authenticate (credentials_file, nkey_seed_file, user and password, or token)", strings.Join(auth, ", "))}
	}
	if n.Password != "" && n.User == "" {
		return &Error{Key: "nats.user", Problem: "missing: a password (nats.password or ZONEWATCH_NATS_PASSWORD) needs a user"}
	}
	if (n.TLS.Cert == "") != (n.TLS.Key == "") {
		return &Error{Key: "nats.tls", Problem: "a client certificate needs both cert and key files"}
	}
	s := &n.Stream
	if s.Replicas == 0 {
		s.Replicas = 1
	}
	if s.Replicas < 1 || s.Replicas > 5 {
		return &Error{Key: "nats.stream.replicas", Problem: fmt.Sprintf("%d: want 1, or 3 on a three-node JetStream cluster (at most 5)", s.Replicas)}
	}
	if c.EmbeddedNATS() && s.Replicas != 1 {
		return &Error{Key: "nats.stream.replicas", Problem: fmt.Sprintf("%d, but the embedded NATS server is a single node: use 1, or name a JetStream cluster in nats.urls", s.Replicas)}
	}
	switch s.Retention {
	case "":
		s.Retention = "limits"
	case "limits", "interest":
	default:
		return &Error{Key: "nats.stream.retention", Problem: fmt.Sprintf("%q is not one of limits, interest", s.Retention)}
	}
	for key, v := range map[string]int64{"max_bytes": s.MaxBytes, "max_msgs": s.MaxMsgs, "alerts_max_bytes": s.AlertsMaxBytes, "dead_max_bytes": s.DeadMaxBytes} {
		if v < 0 {
			return &Error{Key: "nats.stream." + key, Problem: fmt.Sprintf("%d: give 0 (unbounded) or a positive limit", v)}
		}
	}
	return s.Duplicates.check("nats.stream.duplicates")
}

func validNATSScheme(s string) bool {
	switch s {
	case "nats", "tls", "ws", "wss":
		return true
	}
	return false
}
