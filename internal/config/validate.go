package config

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// Validate checks the configuration and fills the defaults that depend on other keys.
func (c *Config) Validate() error {
	if len(c.Zones) == 0 {
		return &Error{Key: "zones", Problem: "no zones: name at least mynumber, lgwan and internet with their CIDR ranges"}
	}
	if _, err := c.ZoneMap(); err != nil {
		return err
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return &Error{Key: "time_zone", Problem: fmt.Sprintf("%q is not a time zone (want e.g. Asia/Tokyo)", c.TimeZone)}
	}
	names := map[string]bool{}
	for i := range c.Listeners {
		l := &c.Listeners[i]
		key := fmt.Sprintf("listeners[%d]", i)
		if l.Name == "" {
			return &Error{Key: key + ".name", Problem: "missing: give each listener a name (it labels metrics and dead letters)"}
		}
		if names[l.Name] {
			return &Error{Key: key + ".name", Problem: fmt.Sprintf("%q is used twice", l.Name)}
		}
		names[l.Name] = true
		switch l.Protocol {
		case "tcp", "udp":
		case "tls":
			if l.TLS.Cert == "" || l.TLS.Key == "" {
				return &Error{Key: key + ".tls", Problem: "a tls listener needs cert and key files"}
			}
		default:
			return &Error{Key: key + ".protocol", Problem: fmt.Sprintf("%q is not one of tcp, udp, tls", l.Protocol)}
		}
		if _, _, err := net.SplitHostPort(l.Address); err != nil {
			return &Error{Key: key + ".address", Problem: fmt.Sprintf("%q is not host:port", l.Address)}
		}
		if l.MaxMessageBytes == 0 {
			l.MaxMessageBytes = DefaultMaxMessage
		}
		if l.MaxMessageBytes < 480 {
			return &Error{Key: key + ".max_message_bytes", Problem: fmt.Sprintf("%d is below the 480 bytes every syslog receiver must accept (RFC 5424 §6.1)", l.MaxMessageBytes)}
		}
		if l.MaxConnections == 0 {
			l.MaxConnections = DefaultMaxConnections
		}
	}
	for i, f := range c.Files {
		key := fmt.Sprintf("files[%d]", i)
		if f.Name == "" || names[f.Name] {
			return &Error{Key: key + ".name", Problem: fmt.Sprintf("%q: give each file input a name of its own (it keys the saved offset)", f.Name)}
		}
		names[f.Name] = true
		if f.Path == "" {
			return &Error{Key: key + ".path", Problem: "missing: the file to follow"}
		}
		switch f.Format {
		case "squid", "squid-combined", "ifilter", "intersafe":
		default:
			return &Error{Key: key + ".format", Problem: fmt.Sprintf("%q is not one of squid, squid-combined, ifilter, intersafe", f.Format)}
		}
	}
	if len(c.Files) > 0 && c.StateDir == "" {
		return &Error{Key: "state_dir", Problem: "missing: file inputs save their offsets there"}
	}
	if c.EmbeddedNATS() && c.NATS.Embedded.DataDir == "" {
		return &Error{Key: "nats.embedded.data_dir", Problem: "missing: the embedded NATS server needs a directory for JetStream"}
	}
	if err := c.validateNATS(); err != nil {
		return err
	}
	if c.ClickHouse.Database == "" {
		return &Error{Key: "clickhouse.database", Problem: "missing"}
	}
	if c.EmbeddedClickHouse() && c.ClickHouse.Embedded.DataDir == "" {
		return &Error{Key: "clickhouse.embedded.data_dir", Problem: "missing: the embedded ClickHouse needs a data directory"}
	}
	if err := c.ClickHouse.Cluster.validate(c.ClickHouse.Addr); err != nil {
		return err
	}
	if c.ClickHouse.Embedded.Library == "" {
		c.ClickHouse.Embedded.Library = DefaultChdbLibrary()
	}
	for key, d := range map[string]Duration{"writer.flush_interval": c.Writer.FlushInterval, "nats.ack_wait": c.NATS.AckWait, "nats.stream.max_age": c.NATS.Stream.MaxAge, "retention.interval": c.Retention.Interval} {
		if err := d.check(key); err != nil {
			return err
		}
	}
	for table, m := range c.Retention.Months {
		if m < 0 {
			return &Error{Key: "retention.months." + table, Problem: fmt.Sprintf("%d: give 0 (keep forever) or a number of months", m)}
		}
	}
	for key, n := range map[string]int{"ingest.workers": c.Ingest.Workers, "ingest.batch_lines": c.Ingest.BatchLines} {
		if n < 0 {
			return &Error{Key: key, Problem: fmt.Sprintf("%d: give 0 for the default or a positive number", n)}
		}
	}
	if c.Writer.BatchSize <= 0 {
		return &Error{Key: "writer.batch_size", Problem: fmt.Sprintf("%d: must be positive", c.Writer.BatchSize)}
	}
	if c.Writer.FlushInterval.Duration <= 0 {
		return &Error{Key: "writer.flush_interval", Problem: "must be a positive duration such as 1s"}
	}
	if err := c.validateRulesAndNotify(); err != nil {
		return err
	}
	return nil
}

// validate checks clickhouse.cluster and defaults its nodes to addr.
func (cl *ClickHouseCluster) validate(addr []string) error {
	if cl.Name == "" {
		if len(cl.Nodes) > 0 || cl.Replicated || len(cl.ShardingKeys) > 0 || cl.BackgroundInsert {
			return &Error{Key: "clickhouse.cluster.name", Problem: "missing: the cluster's name in the servers' remote_servers (other cluster keys are set)"}
		}
		return nil
	}
	if !plainIdent.MatchString(cl.Name) {
		return &Error{Key: "clickhouse.cluster.name", Problem: fmt.Sprintf("%q is not a plain identifier (letters, digits, _)", cl.Name)}
	}
	if len(addr) == 0 {
		return &Error{Key: "clickhouse.addr", Problem: "missing: a cluster needs the servers' addresses (the embedded ClickHouse is a single server)"}
	}
	if len(cl.Nodes) == 0 {
		cl.Nodes = addr
	}
	for i, n := range cl.Nodes {
		if _, _, err := net.SplitHostPort(n); err != nil {
			return &Error{Key: fmt.Sprintf("clickhouse.cluster.nodes[%d]", i), Problem: fmt.Sprintf("%q is not host:port of the native protocol (e.g. ch1:9000)", n)}
		}
	}
	for table, key := range cl.ShardingKeys {
		if strings.TrimSpace(key) == "" || strings.Contains(key, ";") {
			return &Error{Key: "clickhouse.cluster.sharding_keys." + table, Problem: fmt.Sprintf("%q is not an expression (want e.g. cityHash64(observer_host))", key)}
		}
	}
	return nil
}

var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
