package writer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/ingest/writer/writertest"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/internal/natsbus/natstest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// bus is an embedded JetStream server in a temporary directory, with zonewatch's streams.
type bus struct {
	srv *natsbus.Server
	nc  *nats.Conn
	js  jetstream.JetStream
}

func startBus(t testing.TB, so natsbus.StreamOptions) *bus {
	t.Helper()
	b := natstest.Start(t, so)
	return &bus{srv: b.Server, nc: b.Conn, js: b.JS}
}

// publish puts events on the stream as ingest does (JSON, subject zw.events.<zone>.<source type>, the event
// id as the message id) and waits until JetStream has stored them all.
func (b *bus) publish(t testing.TB, events []event.Event) {
	t.Helper()
	for i := range events {
		e := &events[i]
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		msg := &nats.Msg{Subject: natsbus.EventSubject(e.Source.Zone, e.Meta.Module), Data: data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, e.ID)
		if _, err := b.js.PublishMsgAsync(msg); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 || i == len(events)-1 {
			select {
			case <-b.js.PublishAsyncComplete():
			case <-time.After(60 * time.Second):
				t.Fatal("JetStream did not acknowledge the publishes in 60s")
			}
		}
	}
}

// consumerState returns the writer consumer's pending (not yet delivered), ack-pending and redelivered
// counts.
func (b *bus) consumerState(t testing.TB) (pending, ackPending uint64, redelivered int) {
	t.Helper()
	c, err := b.js.Consumer(context.Background(), natsbus.StreamEvents, natsbus.ConsumerWriter)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ci.NumPending, uint64(ci.NumAckPending), ci.NumRedelivered
}

// migrated returns a fresh database of the package's ClickHouse with zonewatch's schema.
func migrated(t testing.TB) (driver.Conn, string) {
	t.Helper()
	conn, db := chtest.NewDatabase(t)
	if _, err := clickhouse.Migrate(context.Background(), conn, clickhouse.MigrateOptions{Database: db}); err != nil {
		t.Fatal(err)
	}
	return conn, db
}

// ownClickHouse starts an embedded ClickHouse of the test's own, for tests that kill or stop it.
func ownClickHouse(t testing.TB, o clickhouse.EmbeddedOptions) *clickhouse.Embedded {
	t.Helper()
	chtest.RequireLib(t)
	if o.DataDir == "" {
		o.DataDir = filepath.Join(t.TempDir(), "ch")
	}
	o.Logger = quiet()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := clickhouse.StartEmbedded(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	return srv
}

func open(t testing.TB, addr, db string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(context.Background(), clickhouse.ConnOptions{Addr: []string{addr}, Database: db, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// runWriter runs a writer until the test ends (or stop is called) and returns it with its metrics.
func runWriter(t testing.TB, o writer.Options) (stop func(), reg *prometheus.Registry) {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quiet()
	}
	return writertest.Run(t, o)
}

// labelled reads a gauge with the label stream from reg.
func labelled(t testing.TB, reg *prometheus.Registry, name, stream string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" && l.GetValue() == stream {
					return value(m)
				}
			}
		}
	}
	return -1
}

func chContext(ctx context.Context, token string) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": token, "deduplicate_blocks_in_dependent_materialized_views": 1}))
}

// metric reads a counter or gauge (without labels) from reg.
func metric(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return writertest.Metric(t, reg, name)
}

func value(m *dto.Metric) float64 { return writertest.Value(m) }

func count(t testing.TB, conn driver.Conn, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// requireExactly checks that events holds want rows, all distinct ids, without FINAL: a duplicate would
// show here (and in the rollups) even though merges would hide it later.
func requireExactly(t testing.TB, conn driver.Conn, want uint64) {
	t.Helper()
	var rows, ids uint64
	if err := conn.QueryRow(context.Background(), "SELECT count(), uniqExact(id) FROM events").Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != want || ids != want {
		t.Fatalf("events: %d rows with %d distinct ids, want exactly %d", rows, ids, want)
	}
}

func quiet() *slog.Logger {
	if testing.Verbose() && os.Getenv("ZW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// genEvents makes n realistic, varied events (FortiGate, iptables, sshd, Squid, i-FILTER, unparsed
// syslog) spread over span ending at end, in time order, reproducible for a seed.
func genEvents(seed uint64, n int, end time.Time, span time.Duration) []event.Event {
	r := rand.New(rand.NewPCG(seed, 0x2026))
	zones := []struct {
		name string
		net  [2]byte
	}{{"mynumber", [2]byte{10, 10}}, {"lgwan", [2]byte{10, 20}}, {"internet", [2]byte{10, 30}}}
	users := []string{"tanaka", "suzuki", "sato", "takahashi", "watanabe", "ito", "yamamoto", "nakamura", "kobayashi", "kato"}
	domains := []struct{ domain, category string }{
		{"www.fdma.go.jp", "government"}, {"www.jma.go.jp", "government"}, {"news.yahoo.co.jp", "news"},
		{"www.google.com", "search"}, {"login.microsoftonline.com", "business"}, {"evil-update.example", "malware"},
		{"www.amazon.co.jp", "shopping"}, {"www.youtube.com", "streaming"},
	}
	ip := func(z int, host int) netip.Addr {
		return netip.AddrFrom4([4]byte{zones[z].net[0], zones[z].net[1], byte(1 + host/250), byte(1 + host%250)})
	}
	start := end.Add(-span)
	out := make([]event.Event, n)
	for i := range out {
		ts := start.Add(time.Duration(float64(span) * float64(i) / float64(n))).Truncate(time.Millisecond).UTC()
		ingested := ts.Add(time.Duration(50+r.IntN(900)) * time.Millisecond)
		e := event.Event{ID: event.NewID(ingested), Timestamp: ts}
		e.Meta.Ingested = ingested
		e.Log.ParseStatus = event.ParseOK
		e.Log.Facility = 23
		e.Meta.Severity = 6
		sz := r.IntN(3)
		user := users[r.IntN(len(users))]
		switch k := r.IntN(100); {
		case k < 55: // FortiGate traffic
			dz := r.IntN(3)
			if r.IntN(4) > 0 {
				dz = sz
			}
			e.Meta.Module, e.Log.Listener = "fortigate", "syslog-tcp"
			e.Observer.Hostname, e.Observer.IP, e.Observer.Zone = "fw-core", netip.MustParseAddr("10.0.0.1"), "mgmt"
			e.Source.IP, e.Source.Zone, e.Source.Port = ip(sz, r.IntN(300)), zones[sz].name, uint16(30000+r.IntN(30000))
			e.Destination.IP, e.Destination.Zone = ip(dz, r.IntN(40)), zones[dz].name
			e.Destination.Port = []uint16{443, 445, 80, 53, 389, 3389}[r.IntN(6)]
			e.Network.Transport = "tcp"
			e.Meta.Category = "network"
			e.Meta.CrossZone = sz != dz
			e.Meta.Action, e.Meta.Outcome = "accept", event.OutcomeSuccess
			if e.Meta.CrossZone && r.IntN(3) > 0 || r.IntN(20) == 0 {
				e.Meta.Action, e.Meta.Outcome = "deny", event.OutcomeFailure
				e.Meta.Severity = 4
			} else {
				e.Source.Bytes, e.Destination.Bytes = uint64(200+r.IntN(20000)), uint64(500+r.IntN(200000))
			}
			e.Labels = map[string]string{"policyid": fmt.Sprint(r.IntN(30)), "devname": "fw-core"}
			e.Meta.Original = fmt.Sprintf(`<189>date=%s time=%s devname="fw-core" devid="FG100F0000000001" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=%s srcport=%d srcintf="port%d" dstip=%s dstport=%d dstintf="port%d" policyid=%s proto=6 action="%s" sentbyte=%d rcvdbyte=%d`,
				ts.Format("2006-01-02"), ts.Format("15:04:05"), e.Source.IP, e.Source.Port, sz+1, e.Destination.IP, e.Destination.Port, dz+1,
				e.Labels["policyid"], e.Meta.Action, e.Source.Bytes, e.Destination.Bytes)
		case k < 65: // iptables on a server
			e.Meta.Module, e.Log.Listener = "iptables", "syslog-udp"
			e.Observer.Hostname, e.Observer.IP, e.Observer.Zone = fmt.Sprintf("srv%02d", r.IntN(4)), ip(sz, 5+r.IntN(4)), zones[sz].name
			e.Source.IP, e.Source.Zone, e.Source.Port = ip(sz, r.IntN(300)), zones[sz].name, uint16(30000+r.IntN(30000))
			e.Destination.IP, e.Destination.Zone, e.Destination.Port = e.Observer.IP, zones[sz].name, 22
			e.Network.Transport = "tcp"
			e.Meta.Action, e.Meta.Outcome = "drop", event.OutcomeFailure
			e.Process.Name = "kernel"
			e.Meta.Original = fmt.Sprintf("<4>%s %s kernel: [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=%s DST=%s LEN=60 TOS=0x00 PROTO=TCP SPT=%d DPT=22 SYN",
				ts.Format(time.Stamp), e.Observer.Hostname, e.Source.IP, e.Destination.IP, e.Source.Port)
		case k < 72: // sshd
			e.Meta.Module, e.Log.Listener = "sshd", "syslog-tcp"
			e.Observer.Hostname, e.Observer.IP, e.Observer.Zone = fmt.Sprintf("srv%02d", r.IntN(4)), ip(sz, 5+r.IntN(4)), zones[sz].name
			e.Source.IP, e.Source.Zone, e.Source.Port = ip(sz, r.IntN(300)), zones[sz].name, uint16(30000+r.IntN(30000))
			e.User.Name, e.Process.Name = user, "sshd"
			e.Meta.Category, e.Meta.Action = "authentication", "ssh_login"
			verb := "Accepted publickey"
			e.Meta.Outcome = event.OutcomeSuccess
			if r.IntN(4) == 0 {
				verb, e.Meta.Outcome = "Failed password", event.OutcomeFailure
			}
			e.Message = fmt.Sprintf("%s for %s from %s port %d ssh2", verb, user, e.Source.IP, e.Source.Port)
			e.Meta.Original = fmt.Sprintf("<38>%s %s sshd[%d]: %s", ts.Format(time.Stamp), e.Observer.Hostname, 1000+r.IntN(30000), e.Message)
		case k < 95: // proxy: Squid or i-FILTER
			d := domains[r.IntN(len(domains))]
			e.Meta.Module, e.Log.Listener = "squid", "syslog-tcp"
			if r.IntN(3) == 0 {
				e.Meta.Module = "ifilter"
			}
			e.Observer.Hostname, e.Observer.IP, e.Observer.Zone = "proxy-cloud", netip.MustParseAddr("10.30.0.5"), "internet"
			e.Source.IP, e.Source.Zone = ip(2, r.IntN(300)), "internet"
			e.Destination.Zone = "external"
			e.User.Name = user
			e.URL.Domain, e.URL.Category = d.domain, d.category
			e.URL.Original = fmt.Sprintf("https://%s/%s?id=%d", d.domain, []string{"index.html", "news/list", "api/v1/items", "static/app.js"}[r.IntN(4)], r.IntN(100000))
			e.HTTP.Method, e.HTTP.Status = []string{"GET", "GET", "GET", "POST", "CONNECT"}[r.IntN(5)], 200
			e.HTTP.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
			e.Meta.Action, e.Meta.Outcome = "allowed", event.OutcomeSuccess
			if d.category == "malware" || r.IntN(25) == 0 {
				e.Meta.Action, e.Meta.Outcome, e.HTTP.Status = "blocked", event.OutcomeFailure, 403
			}
			e.Source.Bytes, e.Destination.Bytes = uint64(300+r.IntN(3000)), uint64(1000+r.IntN(500000))
			e.Meta.Original = fmt.Sprintf("<134>%s proxy-cloud squid[812]: %d.%03d %d %s TCP_MISS/%d %d %s %s %s HIER_DIRECT/203.0.113.%d text/html",
				ts.Format(time.Stamp), ts.Unix(), ts.Nanosecond()/1e6, 20+r.IntN(2000), e.Source.IP, e.HTTP.Status, e.Destination.Bytes, e.HTTP.Method, e.URL.Original, user, 1+r.IntN(200))
		default: // unparsed syslog
			e.Meta.Module, e.Log.Listener = "syslog", "syslog-udp"
			e.Observer.Hostname, e.Observer.IP, e.Observer.Zone = fmt.Sprintf("sw%02d", r.IntN(6)), ip(sz, 250+r.IntN(5)), zones[sz].name
			e.Log.ParseStatus = event.ParseEnvelope
			e.Log.ParseError = "no parser for this body"
			e.Process.Name = "switch"
			e.Message = fmt.Sprintf("%%LINK-3-UPDOWN: Interface GigabitEthernet1/0/%d, changed state to %s", 1+r.IntN(48), []string{"up", "down"}[r.IntN(2)])
			e.Meta.Original = fmt.Sprintf("<187>%s %s %s", ts.Format(time.Stamp), e.Observer.Hostname, e.Message)
		}
		out[i] = e
	}
	return out
}
