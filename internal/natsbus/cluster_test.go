package natsbus_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// TestClusterNodeLossLosesAndDuplicatesNothing is issue 10's acceptance test for NATS: a three-node
// JetStream cluster of embedded nats-servers on loopback, zonewatch's streams laid out R3 from a
// configuration file, syslog lines through ingest's normaliser and Publisher, the writer into ClickHouse,
// and in the middle of it the node that both leads ZW_EVENTS and carries ingest's connection is shut
// down. Every line must be stored exactly once.
func TestClusterNodeLossLosesAndDuplicatesNothing(t *testing.T) {
	const n = 6000
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	ch, db := chtest.NewDatabase(t)
	if _, err := clickhouse.Migrate(ctx, ch, clickhouse.MigrateOptions{Database: db}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	nodes := startCluster(t, 3)
	cfg := clusterConfig(t, nodes)

	ingestJS, ingestNC := connect(t, cfg, "ingest")
	if err := natsbus.EnsureStreams(ctx, ingestJS, streamOptions(t, cfg)); err != nil {
		t.Fatal(err)
	}
	// A second process's start must find the streams as they are and change nothing.
	writerJS, _ := connect(t, cfg, "writer")
	if err := natsbus.EnsureStreams(ctx, writerJS, streamOptions(t, cfg)); err != nil {
		t.Fatalf("EnsureStreams again: %v", err)
	}
	for _, name := range []string{natsbus.StreamEvents, natsbus.StreamAlerts, natsbus.StreamDead} {
		if r := streamInfo(t, ingestJS, name).Config.Replicas; r != 3 {
			t.Fatalf("%s has %d replicas, want 3 from the configuration", name, r)
		}
	}
	victim := leadWhereConnected(t, ingestNC, nodes)
	start := time.Now()
	t.Logf("cluster up, R3 streams in place, leader on ingest's node: %v", time.Since(t0).Round(time.Millisecond))

	reg := prometheus.NewRegistry()
	w, err := writer.New(ctx, writer.Options{JS: writerJS, CH: ch, Database: db, BatchSize: 500,
		FlushInterval: 200 * time.Millisecond, AckWait: 5 * time.Second, MonitorInterval: -1, Logger: quiet(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWriter := context.WithCancel(ctx)
	writerDone := make(chan error, 1)
	go func() { writerDone <- w.Run(wctx) }()

	metrics := pipeline.NewMetrics(reg)
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: ingestJS, Metrics: metrics, Logger: quiet()})
	sink := ingestor(t, pub, metrics).Sink("cluster-test")
	peer := netip.MustParseAddr("10.20.1.1")
	for i := range n {
		if i == n/3 {
			t.Logf("line %d: shutting down %s (leader of %s; ingest connected to %s)", i, victim.Name(), natsbus.StreamEvents, ingestNC.ConnectedServerName())
			victim.Shutdown()
		}
		line := fmt.Sprintf("<86>1 2026-11-25T09:15:01+09:00 lgwan-srv01 sshd 4242 - - Failed password for invalid user u%d from 10.20.9.9 port 40022 ssh2 seq=%d", i%50, i)
		if err := sink.Message(ctx, peer, []byte(line), false); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if i%200 == 199 {
			time.Sleep(20 * time.Millisecond) // a stream of lines, not one burst: the failure lands mid-stream
		}
	}
	fctx, fcancel := context.WithTimeout(ctx, 45*time.Second)
	defer fcancel()
	if err := pub.Close(fctx); err != nil {
		t.Fatalf("publisher did not get every line into JetStream: %v", err)
	}
	t.Logf("all %d lines acknowledged by JetStream after %v", n, time.Since(start).Round(time.Millisecond))
	// A message carries one or more events (pipeline.Publisher batches them): every event acknowledged,
	// in at most n messages.
	if got, msgs := sum(t, reg, "zonewatch_ingest_published_total"), streamInfo(t, ingestJS, natsbus.StreamEvents).State.Msgs; got != n || msgs == 0 || msgs > n {
		t.Errorf("%.0f events acknowledged in %d messages on %s, want %d events", got, msgs, natsbus.StreamEvents, n)
	}

	var total, ids, seqs uint64
	var minSeq, maxSeq int64
	deadline := time.Now().Add(45 * time.Second)
	for {
		row := ch.QueryRow(ctx, `SELECT count(), uniqExact(id), uniqExact(extract(raw, 'seq=(\d+)')),
			min(toInt64(extract(raw, 'seq=(\d+)'))), max(toInt64(extract(raw, 'seq=(\d+)'))) FROM events`)
		if err := row.Scan(&total, &ids, &seqs, &minSeq, &maxSeq); err != nil {
			t.Fatal(err)
		}
		if total >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d rows in ClickHouse after %v; publishes retried %.0f times, redelivered events looked up %.0f times",
		total, time.Since(start).Round(time.Millisecond), sum(t, reg, "zonewatch_ingest_publish_errors_total"), sum(t, reg, "zonewatch_writer_id_lookups_total"))
	// Let a late redelivery show itself before counting duplicates.
	time.Sleep(time.Second)
	if err := ch.QueryRow(ctx, `SELECT count(), uniqExact(id), uniqExact(extract(raw, 'seq=(\d+)')) FROM events`).Scan(&total, &ids, &seqs); err != nil {
		t.Fatal(err)
	}
	stopWriter()
	if err := <-writerDone; err != nil && ctx.Err() == nil {
		t.Errorf("writer: %v", err)
	}
	if total != n || ids != n || seqs != n || minSeq != 0 || maxSeq != n-1 {
		t.Fatalf("ClickHouse holds %d rows, %d distinct ids, %d distinct lines (seq %d..%d); want %d of each, seq 0..%d",
			total, ids, seqs, minSeq, maxSeq, n, n-1)
	}
	if got := streamInfo(t, ingestJS, natsbus.StreamEvents).Cluster.Leader; got == victim.Name() || got == "" {
		t.Errorf("%s leader after the shutdown: %q", natsbus.StreamEvents, got)
	}
}

// startCluster starts n embedded JetStream servers on loopback, each routed to all, and shuts them down
// at the end of the test.
func startCluster(t testing.TB, n int) []*natsbus.Server {
	t.Helper()
	// JetStream wants every node's routes at start, so the cluster ports are picked first.
	var routes []string
	for range n {
		routes = append(routes, "nats-route://"+freeAddr(t))
	}
	nodes := make([]*natsbus.Server, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		// Started together: a node waits for its peers before it is ready.
		wg.Go(func() {
			nodes[i], errs[i] = natsbus.StartServer(natsbus.ServerOptions{Name: fmt.Sprintf("n%d", i+1), Listen: "127.0.0.1:0",
				DataDir: filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i+1)),
				Cluster: &natsbus.ClusterOptions{Name: "zw-test", Listen: strings.TrimPrefix(routes[i], "nats-route://"), Routes: routes}})
		})
	}
	wg.Wait()
	for i, s := range nodes {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		t.Cleanup(s.Shutdown)
	}
	return nodes
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// clusterConfig is a configuration file naming the cluster's URLs and R3 streams, loaded as serve loads it.
func clusterConfig(t *testing.T, nodes []*natsbus.Server) *config.Config {
	t.Helper()
	var urls []string
	for _, s := range nodes {
		urls = append(urls, s.ClientURL())
	}
	body := fmt.Sprintf("nats:\n  urls: [%s]\n  stream: {replicas: 3, max_bytes: 268435456, duplicates: 2m}\n", strings.Join(urls, ", "))
	p := filepath.Join(t.TempDir(), "zonewatch.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func streamOptions(t *testing.T, cfg *config.Config) natsbus.StreamOptions {
	t.Helper()
	_, so, err := natsbus.FromConfig(cfg.NATS, "")
	if err != nil {
		t.Fatal(err)
	}
	so.Logger = quiet()
	return so
}

func connect(t *testing.T, cfg *config.Config, name string) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	co, _, err := natsbus.FromConfig(cfg.NATS, name)
	if err != nil {
		t.Fatal(err)
	}
	co.Logger = quiet()
	nc, err := natsbus.Connect(co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4*pipeline.DefaultMaxInFlight), jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return js, nc
}

func streamInfo(t *testing.T, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	var last error
	for range 50 {
		s, err := js.Stream(t.Context(), name)
		if err == nil {
			if info, err := s.Info(t.Context()); err == nil {
				return info
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("stream %s info: %v", name, last)
	return nil
}

// leadWhereConnected moves the leadership of ZW_EVENTS (step-downs elect a random other node) until the
// leader is the node ingest's connection is on, so that one shutdown takes away both at once: the worst
// case for a publish in flight. It returns that node.
func leadWhereConnected(t *testing.T, nc *nats.Conn, nodes []*natsbus.Server) *natsbus.Server {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	want := nc.ConnectedServerName()
	for range 20 {
		leader := streamInfo(t, js, natsbus.StreamEvents).Cluster.Leader
		if leader == want {
			break
		}
		if leader != "" {
			if _, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+natsbus.StreamEvents, nil, 5*time.Second); err != nil {
				t.Logf("step down: %v", err)
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	leader := streamInfo(t, js, natsbus.StreamEvents).Cluster.Leader
	for _, s := range nodes {
		if s.Name() == leader {
			if leader != want {
				t.Logf("leader %s is not ingest's server %s; shutting down the leader", leader, want)
			}
			return s
		}
	}
	t.Fatalf("%s leader %q is none of the nodes", natsbus.StreamEvents, leader)
	return nil
}

// sum adds up every series of a metric family ("" when absent: 0).
func sum(t testing.TB, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

func ingestor(t *testing.T, pub *pipeline.Publisher, m *pipeline.Metrics) *pipeline.Ingestor {
	t.Helper()
	return pipeline.NewIngestor(pipelinetest.NormaliserOptions(t), pub, m)
}

// quiet discards logs unless ZW_TEST_LOG is set (then debug to stderr).
func quiet() *slog.Logger {
	if os.Getenv("ZW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
