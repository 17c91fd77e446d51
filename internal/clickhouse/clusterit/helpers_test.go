package clusterit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/ingest/writer/writertest"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/internal/natsbus/natstest"
)

// TestMain serves as the embedded ClickHouse child when asked to; the tests start their own
// servers (one per node), so no package server is started.
func TestMain(m *testing.M) {
	clickhouse.RunChildIfRequested()
	os.Exit(m.Run())
}

const clusterName = "zw"

// node is one embedded ClickHouse server of a test cluster. Its data directory and ports stay the
// same across a kill and a restart, as a real node's would.
type node struct {
	opts clickhouse.EmbeddedOptions
	srv  *clickhouse.Embedded
}

func (n *node) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.opts.TCPPort)) }

// startCluster starts n embedded servers as the n single-replica shards of cluster "zw" on loopback.
func startCluster(t testing.TB, n int) []*node {
	t.Helper()
	chtest.RequireLib(t)
	// remote_servers must name every node's port before any starts: pick them now.
	ports := freePorts(t, 2*n)
	shards := make([][]string, n)
	for i := range n {
		shards[i] = []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2*i]))}
	}
	nodes := make([]*node, n)
	for i := range n {
		xml, err := clickhouse.NodeConfig{Cluster: clusterName, Shards: shards,
			Macros: map[string]string{"shard": strconv.Itoa(i + 1), "replica": "r1"}}.XML()
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = &node{opts: clickhouse.EmbeddedOptions{
			DataDir: filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i+1)),
			TCPPort: ports[2*i], HTTPPort: ports[2*i+1], ConfigXML: xml, Logger: quiet(),
			StopTimeout: 5 * time.Second,
		}}
		nodes[i].start(t)
	}
	t.Cleanup(func() {
		for _, nd := range nodes {
			_ = nd.srv.Stop(context.Background())
		}
	})
	return nodes
}

func (n *node) start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := clickhouse.StartEmbedded(ctx, n.opts)
	if err != nil {
		t.Fatal(err)
	}
	n.srv = srv
}

// kill SIGKILLs the node, as a crash would, and waits until the process is gone.
func (n *node) kill(t testing.TB) {
	t.Helper()
	if err := n.srv.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the killed node to exit", func() bool { return n.srv.PID() == 0 })
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close() // held until all are picked, so none repeats
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

func open(t testing.TB, addr, db string, settings map[string]any) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(context.Background(), clickhouse.ConnOptions{Addr: []string{addr}, Database: db,
		DialTimeout: 2 * time.Second, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func count(t testing.TB, conn driver.Conn, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func quiet() *slog.Logger {
	if testing.Verbose() && os.Getenv("ZW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// bus is an embedded JetStream server with zonewatch's streams.
type bus struct {
	js jetstream.JetStream
}

func startBus(t testing.TB) *bus {
	t.Helper()
	return &bus{js: natstest.Start(t, natsbus.StreamOptions{}).JS}
}

// publish puts events on the stream as ingest does and waits until JetStream stored them.
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
		if i%1000 == 999 || i == len(events)-1 { // bound the publishes in flight
			select {
			case <-b.js.PublishAsyncComplete():
			case <-time.After(60 * time.Second):
				t.Fatal("JetStream did not acknowledge the publishes in 60s")
			}
		}
	}
}

// settled reports whether the writer's consumer has acknowledged every message.
func (b *bus) settled(t testing.TB) bool {
	t.Helper()
	c, err := b.js.Consumer(context.Background(), natsbus.StreamEvents, natsbus.ConsumerWriter)
	if err != nil {
		return false
	}
	ci, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ci.NumPending == 0 && ci.NumAckPending == 0
}

// runWriter runs a zonewatch writer until stop (or the test's end) and returns its metrics.
func runWriter(t testing.TB, o writer.Options) (stop func(), reg *prometheus.Registry) {
	t.Helper()
	o.Logger = quiet()
	o.MinBackoff, o.MaxBackoff, o.MonitorInterval = 100*time.Millisecond, time.Second, -1
	o.InsertTimeout = 10 * time.Second
	return writertest.Run(t, o)
}

func metric(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return writertest.Metric(t, reg, name)
}

// genEvents makes n events from sources log sources (firewalls fw-01 … with their own addresses),
// round robin, in the hour before end.
func genEvents(n, sources int, end time.Time) []event.Event {
	zones := []string{"mynumber", "lgwan", "internet"}
	out := make([]event.Event, n)
	for i := range out {
		ts := end.Add(-time.Hour + time.Duration(i)*time.Hour/time.Duration(n)).Truncate(time.Millisecond).UTC()
		src := i % sources
		z := zones[src%len(zones)]
		e := event.Event{ID: event.NewID(ts), Timestamp: ts}
		e.Meta.Ingested, e.Meta.Module, e.Meta.Action, e.Meta.Outcome = ts, "fortigate", "accept", event.OutcomeSuccess
		e.Log.ParseStatus, e.Log.Listener = event.ParseOK, "syslog-tcp"
		e.Observer.Hostname = fmt.Sprintf("fw-%02d", src+1)
		e.Observer.IP = netip.AddrFrom4([4]byte{10, 99, 0, byte(src + 1)})
		e.Source = event.Endpoint{IP: netip.AddrFrom4([4]byte{10, byte(10 * (1 + src%3)), 1, byte(1 + i%200)}), Port: uint16(40000 + i%1000), Zone: z}
		e.Destination = event.Endpoint{IP: netip.MustParseAddr("203.0.113.10"), Port: 443, Zone: "external"}
		e.User.Name = fmt.Sprintf("user%02d", i%17)
		e.Meta.Original = fmt.Sprintf("<134>fw-%02d srcip=%s action=accept n=%d", src+1, e.Source.IP, i)
		out[i] = e
	}
	return out
}
