package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "zonewatch.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !c.EmbeddedNATS() || !c.EmbeddedClickHouse() || c.Listeners[0].MaxMessageBytes != DefaultMaxMessage {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestExampleFileLoads(t *testing.T) {
	c, err := Load("../../deploy/zonewatch.example.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.ZoneMap()
	if err != nil {
		t.Fatal(err)
	}
	if z := m.Zone(netip.MustParseAddr("10.10.1.1")); z != "mynumber" {
		t.Errorf("10.10.1.1 in %q", z)
	}
	if h, ok := m.Host(netip.MustParseAddr("10.30.0.10")); !ok || h.Role != "proxy" {
		t.Errorf("proxy host not found: %+v", h)
	}
}

func TestBadFilesNameFileKeyAndProblem(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"bad cidr", "zones:\n  lgwan:\n    cidrs: [10.20.0.0/16, 10.0.0/8]\n", `zones.lgwan.cidrs[1]: "10.0.0/8" is not a CIDR`},
		{"unknown key", "zonez: {}\n", "zonez"},
		{"bad protocol", "listeners:\n  - {name: a, protocol: sctp, address: 127.0.0.1:1}\n", `listeners[0].protocol: "sctp" is not one of`},
		{"negative workers", "ingest:\n  workers: -1\n", "ingest.workers: -1"},
		{"bad duration", "writer:\n  flush_interval: soon\n", "flush_interval"},
		{"overlap", "zones:\n  a: {cidrs: [10.0.0.0/8]}\n  b: {cidrs: [10.0.0.0/8]}\n", "two zones"},
		{"bad file format", "files:\n  - {name: sq, path: /var/log/squid/access.log, format: apache}\n", `files[0].format: "apache" is not one of`},
		{"file name taken by a listener", "files:\n  - {name: syslog-tcp, path: /x, format: squid}\n", `files[0].name`},
		{"tiny max", "listeners:\n  - {name: a, protocol: tcp, address: 127.0.0.1:1, max_message_bytes: 100}\n", "480 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, tc.body)
			_, err := Load(p, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v\nwant the file %s and %q", err, p, tc.want)
			}
		})
	}
}

func TestEnvironmentOverridesSecrets(t *testing.T) {
	p := write(t, "clickhouse:\n  password: fromfile\n")
	env := map[string]string{"ZONEWATCH_CLICKHOUSE_PASSWORD": "fromenv", "ZONEWATCH_NATS_TOKEN": "tok"}
	c, err := Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.ClickHouse.Password != "fromenv" || c.NATS.Token != "tok" {
		t.Fatalf("password %q token %q", c.ClickHouse.Password, c.NATS.Token)
	}
}
