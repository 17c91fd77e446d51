package config

import (
	"strings"
	"testing"
	"time"
)

func TestNATSClusterSection(t *testing.T) {
	p := write(t, `nats:
  urls: [nats://nats-1:4222, nats://nats-2:4222, tls://nats-3:4222]
  nkey_seed_file: /etc/zonewatch/nats.nk
  tls: {ca: /etc/zonewatch/ca.pem}
  stream: {replicas: 3, max_bytes: 1000, max_msgs: 50, duplicates: 5m, retention: interest, alerts_max_bytes: 10, dead_max_bytes: 20}
`)
	c, err := Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s := c.NATS.Stream
	if c.EmbeddedNATS() || len(c.NATS.URLs) != 3 || c.NATS.NkeySeedFile != "/etc/zonewatch/nats.nk" ||
		s.Replicas != 3 || s.MaxBytes != 1000 || s.MaxMsgs != 50 || s.Duplicates.Duration != 5*time.Minute ||
		s.Retention != "interest" || s.AlertsMaxBytes != 10 || s.DeadMaxBytes != 20 {
		t.Fatalf("nats section: %+v", c.NATS)
	}
	// Keys left out keep their defaults.
	if s.MaxAge.Duration != 7*24*time.Hour {
		t.Errorf("max_age %v, want the 168h default", s.MaxAge)
	}
}

func TestBadNATSSection(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"url without scheme", "nats:\n  urls: [nats-1:4222]\n", `nats.urls[0]: "nats-1:4222" is not a NATS URL`},
		{"http url", "nats:\n  urls: [http://nats-1:4222]\n", `nats.urls[0]`},
		{"two auth methods", "nats:\n  urls: [nats://a:4222]\n  user: zw\n  token: t\n", "nats.token, nats.user are set: give one way"},
		{"password without user", "nats:\n  urls: [nats://a:4222]\n  password: p\n", "nats.user: missing"},
		{"cert without key", "nats:\n  urls: [nats://a:4222]\n  tls: {cert: c.pem}\n", "nats.tls: a client certificate needs both"},
		{"R3 on the embedded server", "nats:\n  stream: {replicas: 3}\n", "nats.stream.replicas: 3, but the embedded NATS server is a single node"},
		{"R9", "nats:\n  urls: [nats://a:4222]\n  stream: {replicas: 9}\n", "nats.stream.replicas: 9"},
		{"retention", "nats:\n  stream: {retention: workqueue}\n", `nats.stream.retention: "workqueue" is not one of limits, interest`},
		{"negative limit", "nats:\n  stream: {max_msgs: -5}\n", "nats.stream.max_msgs: -5"},
		{"bad window", "nats:\n  stream: {duplicates: twice}\n", "nats.stream.duplicates"},
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

// TestProductionFileLoads keeps deploy/zonewatch.production.yaml loadable and saying what it is for: an
// external R3 NATS cluster with credentials and TLS, a ClickHouse cluster.
func TestProductionFileLoads(t *testing.T) {
	c, err := Load("../../deploy/zonewatch.production.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	n := c.NATS
	if c.EmbeddedNATS() || len(n.URLs) != 3 || n.Stream.Replicas != 3 || n.CredentialsFile == "" || !n.TLS.Enabled() ||
		n.Stream.Retention != "limits" {
		t.Errorf("nats: %+v", n)
	}
	if c.EmbeddedClickHouse() || !c.ClickHouse.Clustered() || !c.ClickHouse.TLS.Enabled() {
		t.Errorf("clickhouse: %+v", c.ClickHouse)
	}
}
