package natsbus_test

// Benchmarks print figures and never assert timings. Run once:
//
//	go test -run '^$' -bench Replicas -benchtime 1x ./internal/natsbus/
//
// All servers run in this process on one machine, so compare the ratio printed within one run, not the
// absolute rates across machines or runs.

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// BenchmarkReplicasR3VersusR1 publishes the simulator's traffic mix, already normalised, through ingest's
// Publisher into ZW_EVENTS on a single server (R1) and on a three-node cluster (R3), and reports
// events/s and CPU per event (this process: client and servers) for each, the ratio R3/R1, and the bytes
// one event takes on the stream (per replica), which sizes nats.stream.max_bytes.
func BenchmarkReplicasR3VersusR1(b *testing.B) {
	n := 50_000
	if v, err := strconv.Atoi(os.Getenv("ZW_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	lines := pipelinetest.SyslogLines(b, n)
	for b.Loop() {
		events, normCPU := normalise(b, lines)
		r1, cpu1, bytes1 := publishAll(b, events, 1)
		r3, cpu3, _ := publishAll(b, events, 3)
		b.ReportMetric(r1, "R1_events/s")
		b.ReportMetric(r3, "R3_events/s")
		b.ReportMetric(r3/r1, "R3/R1")
		b.ReportMetric(cpu1, "R1_cpu-µs/event")
		b.ReportMetric(cpu3, "R3_cpu-µs/event")
		b.ReportMetric(bytes1, "stream_bytes/event")
		b.ReportMetric(normCPU, "normalise_cpu-µs/event")
		b.Logf("%d events: R1 %.0f events/s (%.1f CPU-µs each), R3 %.0f events/s (%.1f CPU-µs each, 3 servers): ratio %.2f; %.0f bytes per event on the stream; normalising (envelope, body, zones) %.1f CPU-µs per event before that",
			len(events), r1, cpu1, r3, cpu3, r3/r1, bytes1, normCPU)
	}
}

func publishAll(b *testing.B, events []event.Event, replicas int) (rate, cpuMicros, bytesPerEvent float64) {
	b.Helper()
	var urls []string
	if replicas == 1 {
		s, err := natsbus.StartServer(natsbus.ServerOptions{Listen: "127.0.0.1:0", DataDir: filepath.Join(b.TempDir(), "r1")})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Shutdown()
		urls = []string{s.ClientURL()}
	} else {
		for _, s := range startCluster(b, replicas) {
			urls = append(urls, s.ClientURL())
		}
	}
	nc, err := natsbus.Connect(natsbus.ConnOptions{URLs: urls, Name: "bench", Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4*pipeline.DefaultMaxInFlight))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := natsbus.EnsureStreams(ctx, js, natsbus.StreamOptions{Replicas: replicas, Logger: quiet()}); err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: js, Logger: quiet(), Metrics: pipeline.NewMetrics(reg)})
	cpu0, start := processCPU(), time.Now()
	for i := range events {
		if err := pub.Event(ctx, &events[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := pub.Close(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	st, err := js.Stream(ctx, natsbus.StreamEvents)
	if err != nil {
		b.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// A message carries one or more events (pipeline.Publisher batches them).
	if got := sum(b, reg, "zonewatch_ingest_published_total"); got != float64(len(events)) || info.State.Msgs == 0 || info.State.Msgs > uint64(len(events)) {
		b.Fatalf("R%d: %.0f events acknowledged in %d messages on the stream, want %d events", replicas, got, info.State.Msgs, len(events))
	}
	n := float64(len(events))
	return n / elapsed.Seconds(), float64(cpu.Microseconds()) / n, float64(info.State.Bytes) / n
}

// normalise turns lines into events as ingest does (envelope, body parser, zones), and says how much CPU
// that took per line.
func normalise(b *testing.B, lines [][]byte) ([]event.Event, float64) {
	b.Helper()
	zones, err := config.Default().ZoneMap()
	if err != nil {
		b.Fatal(err)
	}
	parsers, err := parse.New(parse.Options{})
	if err != nil {
		b.Fatal(err)
	}
	norm := pipeline.NewNormaliser(pipeline.NormaliserOptions{Zones: zones, Parsers: parsers})
	peer := netip.MustParseAddr("10.20.0.1")
	events := make([]event.Event, 0, len(lines))
	cpu0 := processCPU()
	for _, l := range lines {
		if e, err := norm.Syslog("bench", peer, l); err == nil {
			events = append(events, e)
		}
	}
	return events, float64((processCPU() - cpu0).Microseconds()) / float64(len(lines))
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
