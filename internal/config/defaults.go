package config

import (
	"os"
	"path/filepath"
	"time"
)

// Defaults shared by the docs, the scripts and the tests.
const (
	DefaultSyslogAddr     = "127.0.0.1:5514"
	DefaultSyslogTLSAddr  = "127.0.0.1:6514"
	DefaultAPIAddr        = "127.0.0.1:7480"
	DefaultNATSAddr       = "127.0.0.1:14222"
	DefaultCHTCPPort      = 19000
	DefaultCHHTTPPort     = 18123
	DefaultDatabase       = "zonewatch"
	DefaultMaxMessage     = 64 * 1024
	DefaultMaxConnections = 1024
	DefaultChdbVersion    = "26.7.3-stable.1"
)

// Default returns the configuration used when no file is given: embedded NATS and ClickHouse, syslog on
// loopback, and the example zones of deploy/zonewatch.example.yaml.
func Default() *Config {
	return &Config{
		Zones: map[string]ZoneConfig{
			"mynumber":  {CIDRs: []string{"10.10.0.0/16"}},
			"lgwan":     {CIDRs: []string{"10.20.0.0/16"}},
			"internet":  {CIDRs: []string{"10.30.0.0/16"}},
			"lgwan-wan": {CIDRs: []string{"172.16.0.0/12"}},
		},
		DefaultZone: "external",
		StateDir:    "data/state",
		Listeners: []Listener{
			{Name: "syslog-tcp", Protocol: "tcp", Address: DefaultSyslogAddr},
			{Name: "syslog-udp", Protocol: "udp", Address: DefaultSyslogAddr},
		},
		NATS: NATS{
			Embedded: EmbeddedNATS{DataDir: "data/nats", Listen: DefaultNATSAddr},
			Stream:   StreamLimits{MaxBytes: 8 << 30, MaxAge: D(7 * 24 * time.Hour), Replicas: 1, Duplicates: D(2 * time.Minute), Retention: "limits"},
			AckWait:  D(30 * time.Second),
		},
		ClickHouse: ClickHouse{
			Database: DefaultDatabase,
			Username: "default",
			Embedded: EmbeddedClickHouse{DataDir: "data/clickhouse", TCPPort: DefaultCHTCPPort, HTTPPort: DefaultCHHTTPPort},
		},
		Rules:    Rules{Dir: "rules/default"},
		Writer:   Writer{BatchSize: 20000, FlushInterval: D(time.Second)},
		API:      API{Listen: DefaultAPIAddr},
		TimeZone: "Asia/Tokyo",
	}
}

// DefaultChdbLibrary is where deploy/setup.sh puts libchdb.so.
func DefaultChdbLibrary() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "zonewatch", "chdb", DefaultChdbVersion, "libchdb.so")
}
