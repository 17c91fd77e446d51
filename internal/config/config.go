// Package config reads zonewatch's one configuration file (YAML). A bad file fails at start with the
// file, the key and what is wrong; secrets can come from environment variables instead of the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/goccy/go-yaml"

	"github.com/zonewatch/zonewatch/internal/zone"
)

// Config is the whole file. The zero value of an optional section means "use the default".
type Config struct {
	// Zones maps a zone name (mynumber, lgwan, internet, or an outside network) to its CIDR ranges.
	Zones map[string]ZoneConfig `yaml:"zones"`
	// DefaultZone names public addresses that no range covers.
	DefaultZone string       `yaml:"default_zone"`
	Hosts       []HostConfig `yaml:"hosts"`
	Listeners   []Listener   `yaml:"listeners"`
	// Files are proxy log files to follow (Squid access.log, i-FILTER, InterSafe).
	Files []FileInput `yaml:"files"`
	// Ingest tunes how listeners and file inputs normalise lines.
	Ingest Ingest `yaml:"ingest"`
	// StateDir holds what must survive a restart besides NATS and ClickHouse data: file offsets.
	StateDir   string     `yaml:"state_dir"`
	NATS       NATS       `yaml:"nats"`
	ClickHouse ClickHouse `yaml:"clickhouse"`
	Writer     Writer     `yaml:"writer"`
	Retention  Retention  `yaml:"retention"`
	Rules      Rules      `yaml:"rules"`
	// Notify sends alerts to people (webhook, e-mail); see notify.go.
	Notify Notify `yaml:"notify"`
	API    API    `yaml:"api"`
	// Parse adapts the body parsers to the devices: proxy log layouts, category names, app names.
	Parse Parse `yaml:"parse"`
	// TimeZone is the zone of device clocks that send local time without an offset (RFC 3164).
	TimeZone string `yaml:"time_zone"`
}

// ZoneConfig is one zone's address ranges.
type ZoneConfig struct {
	CIDRs       []string `yaml:"cidrs"`
	Description string   `yaml:"description"`
}

// HostConfig is a named host: sanitisation gateway, proxy, jump host, update server …
type HostConfig struct {
	Name      string   `yaml:"name"`
	Role      string   `yaml:"role"`
	Addresses []string `yaml:"addresses"`
}

// Listener is one syslog input.
type Listener struct {
	Name     string `yaml:"name"`
	Protocol string `yaml:"protocol"` // tcp, udp, tls
	Address  string `yaml:"address"`
	// MaxMessageBytes caps one message; longer ones are cut, kept as dead letters and counted.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	MaxConnections  int `yaml:"max_connections"`
	// ReceiveBufferBytes is a UDP listener's kernel receive buffer (0: the system default). Datagrams
	// that still overflow it are counted in zonewatch_ingest_udp_dropped_total.
	ReceiveBufferBytes int `yaml:"receive_buffer_bytes"`
	TLS                TLS `yaml:"tls"`
}

// FileInput is one followed log file.
type FileInput struct {
	Name   string `yaml:"name"`
	Path   string `yaml:"path"`
	Format string `yaml:"format"` // squid, squid-combined, ifilter, intersafe
}

// TLS names certificate files. For a listener, CA set means client certificates are required.
type TLS struct {
	CA                 string `yaml:"ca"`
	Cert               string `yaml:"cert"`
	Key                string `yaml:"key"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Enabled reports whether any TLS setting is present.
func (t TLS) Enabled() bool { return t.CA != "" || t.Cert != "" || t.InsecureSkipVerify }

// NATS is either an embedded server (the default) or an external cluster (URLs set).
type NATS struct {
	// URLs of an external NATS server or cluster (nats:// or tls://); list several nodes of a cluster so
	// that a process can start while one of them is down.
	URLs []string `yaml:"urls"`
	// One way to authenticate: a .creds file (JWT + nkey), an nkey seed file, user and password, or a token.
	CredentialsFile string       `yaml:"credentials_file"`
	NkeySeedFile    string       `yaml:"nkey_seed_file"`
	User            string       `yaml:"user"`
	Password        string       `yaml:"password"` // or ZONEWATCH_NATS_PASSWORD
	Token           string       `yaml:"token"`    // or ZONEWATCH_NATS_TOKEN
	TLS             TLS          `yaml:"tls"`
	Embedded        EmbeddedNATS `yaml:"embedded"`
	Stream          StreamLimits `yaml:"stream"`
	AckWait         Duration     `yaml:"ack_wait"`
}

// EmbeddedNATS configures the in-process nats-server.
type EmbeddedNATS struct {
	DataDir string `yaml:"data_dir"`
	Listen  string `yaml:"listen"`
}

// StreamLimits bound the events stream on disk.
type StreamLimits struct {
	MaxBytes int64    `yaml:"max_bytes"`
	MaxMsgs  int64    `yaml:"max_msgs"`
	MaxAge   Duration `yaml:"max_age"` // all three streams
	// Replicas: 1, or 3 on a JetStream cluster (R3: one node may fail without losing or stopping anything).
	Replicas int `yaml:"replicas"`
	// Duplicates is the de-duplication window by message id; a retried publish must come within it.
	Duplicates Duration `yaml:"duplicates"`
	// Retention is limits (default) or interest (a message goes once every consumer has acknowledged it).
	Retention string `yaml:"retention"`
	// AlertsMaxBytes and DeadMaxBytes bound ZW_ALERTS and ZW_DEAD (0: unbounded).
	AlertsMaxBytes int64 `yaml:"alerts_max_bytes"`
	DeadMaxBytes   int64 `yaml:"dead_max_bytes"`
}

// ClickHouse is either the embedded engine (the default) or an external server (Addr set).
type ClickHouse struct {
	Addr     []string           `yaml:"addr"`
	Database string             `yaml:"database"`
	Username string             `yaml:"username"`
	Password string             `yaml:"password"` // or ZONEWATCH_CLICKHOUSE_PASSWORD
	TLS      TLS                `yaml:"tls"`
	Embedded EmbeddedClickHouse `yaml:"embedded"`
	// Cluster lays the schema out for a ClickHouse cluster; without a name, a single server.
	Cluster ClickHouseCluster `yaml:"cluster"`
}

// ClickHouseCluster is the ClickHouse cluster zonewatch's schema is laid out for: local tables on every
// node and Distributed tables under the public names (internal/clickhouse, cluster.go).
type ClickHouseCluster struct {
	// Name is the cluster in the servers' remote_servers; empty: a single server.
	Name string `yaml:"name"`
	// Nodes lists the native host:port of every node (every replica of every shard): migrate applies the
	// DDL to each in turn. Default: addr.
	Nodes []string `yaml:"nodes"`
	// Replicated makes the local tables Replicated*MergeTree (needs Keeper and the {shard} and {replica}
	// macros on every node); ReplicaPath and ReplicaName override the Keeper path and replica name.
	Replicated  bool   `yaml:"replicated"`
	ReplicaPath string `yaml:"replica_path"`
	ReplicaName string `yaml:"replica_name"`
	// ShardingKeys overrides the sharding key of a table, e.g. events: cityHash64(observer_host).
	ShardingKeys map[string]string `yaml:"sharding_keys"`
	// BackgroundInsert lets the node zonewatch writes to queue the rows of an unreachable shard on its disk
	// instead of failing the insert (the writer then retries, JetStream keeping the backlog).
	BackgroundInsert bool `yaml:"background_insert"`
}

// Clustered reports whether the schema is laid out for a cluster.
func (c ClickHouse) Clustered() bool { return c.Cluster.Name != "" }

// EmbeddedClickHouse configures the ClickHouse child process.
type EmbeddedClickHouse struct {
	DataDir  string `yaml:"data_dir"`
	Library  string `yaml:"library"` // libchdb.so; or ZONEWATCH_CHDB_LIB
	TCPPort  int    `yaml:"tcp_port"`
	HTTPPort int    `yaml:"http_port"`
}

// Ingest tunes normalisation. Zero values take the defaults.
type Ingest struct {
	// Workers is how many goroutines normalise lines, shared by all inputs; 0 means one per CPU.
	Workers int `yaml:"workers"`
	// BatchLines is how many lines of one connection a worker takes at a time; 0 means 128. Smaller
	// batches hand a slow sender's lines on sooner, larger ones cost less per line.
	BatchLines int `yaml:"batch_lines"`
}

// Writer tunes the JetStream → ClickHouse writer.
type Writer struct {
	BatchSize     int      `yaml:"batch_size"`
	FlushInterval Duration `yaml:"flush_interval"`
}

// Retention keeps a number of whole months per table and drops older monthly partitions.
type Retention struct {
	// Interval is how often serve applies it; 0 means daily.
	Interval Duration `yaml:"interval"`
	// Months maps a table to the whole months it keeps before the current one; absent tables use the
	// built-in defaults (events 13, dead_letters 3, alerts 60 …), 0 keeps a table forever.
	Months map[string]int `yaml:"months"`
}

// Rules configures the detection stage.
type Rules struct {
	// Dir holds the rule files (and their lists, macros, calendars); "" runs no rules. serve reloads it
	// when its files change and on SIGHUP; a set that does not load is refused and the previous one runs.
	Dir string `yaml:"dir"`
	// Partition splits the rules' group keys between rule processes: process index (from 0) of count.
	Partition RulesPartition `yaml:"partition"`
}

// RulesPartition is one rule process's share of the group keys; count 0 or 1 is everything.
type RulesPartition struct {
	Index int `yaml:"index"`
	Count int `yaml:"count"`
}

// API is the HTTP API and /metrics.
type API struct {
	Listen string `yaml:"listen"`
	// TokensFile lists API tokens as "<sha256> <name> <role> <zones|*>" lines; without it tokens are read
	// from the api_tokens table.
	TokensFile string `yaml:"tokens_file"`
}

// Error is a configuration error: which file, which key, what is wrong.
type Error struct {
	File, Key, Problem string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("config %s: %s", e.File, e.Problem)
	}
	return fmt.Sprintf("config %s: %s: %s", e.File, e.Key, e.Problem)
}

// Load reads, defaults, overrides from the environment and validates a file. An empty path gives the
// defaults alone (the quick start's configuration).
func Load(path string, getenv func(string) string) (*Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, &Error{File: path, Problem: fmt.Sprintf("cannot read: %v", err)}
		}
		if err := yaml.NewDecoder(bytes.NewReader(b), yaml.DisallowUnknownField()).Decode(c); err != nil {
			return nil, &Error{File: path, Problem: yaml.FormatError(err, false, true)}
		}
	}
	c.applyEnv(getenv)
	if err := c.Validate(); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.File = path
			if path == "" {
				ce.File = "(defaults)"
			}
		}
		return nil, err
	}
	return c, nil
}

func (c *Config) applyEnv(getenv func(string) string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.ClickHouse.Password, "ZONEWATCH_CLICKHOUSE_PASSWORD")
	set(&c.NATS.Password, "ZONEWATCH_NATS_PASSWORD")
	set(&c.NATS.Token, "ZONEWATCH_NATS_TOKEN")
	set(&c.ClickHouse.Embedded.Library, "ZONEWATCH_CHDB_LIB")
	c.Notify.applyEnv(getenv)
}

// ZoneMap builds the classifier the configuration describes.
func (c *Config) ZoneMap() (*zone.Map, error) {
	opts := zone.Options{Zones: map[string][]netip.Prefix{}, Default: c.DefaultZone}
	for name, z := range c.Zones {
		for i, s := range z.CIDRs {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, &Error{Key: fmt.Sprintf("zones.%s.cidrs[%d]", name, i), Problem: fmt.Sprintf("%q is not a CIDR range (want e.g. 10.10.0.0/16 or 2001:db8::/48)", s)}
			}
			opts.Zones[name] = append(opts.Zones[name], p)
		}
	}
	for i, h := range c.Hosts {
		host := zone.Host{Name: h.Name, Role: h.Role}
		for j, s := range h.Addresses {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, &Error{Key: fmt.Sprintf("hosts[%d].addresses[%d]", i, j), Problem: fmt.Sprintf("%q is not an IP address", s)}
			}
			host.Addresses = append(host.Addresses, a)
		}
		opts.Hosts = append(opts.Hosts, host)
	}
	m, err := zone.New(opts)
	if err != nil {
		return nil, &Error{Key: "zones", Problem: err.Error()}
	}
	return m, nil
}

// EmbeddedNATS reports whether zonewatch runs its own NATS server.
func (c *Config) EmbeddedNATS() bool { return len(c.NATS.URLs) == 0 }

// EmbeddedClickHouse reports whether zonewatch runs its own ClickHouse.
func (c *Config) EmbeddedClickHouse() bool { return len(c.ClickHouse.Addr) == 0 }
