package listen_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"
	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"

	"github.com/zonewatch/zonewatch/ingest/listen"
	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/internal/natsbus/natstest"
)

// BenchmarkIngestEndToEnd sends the simulator's mix over one TCP connection (RFC 6587 octet counting)
// into a real listener, envelope and body parsing, normalisation, zone tagging and asynchronous
// publishing to an embedded JetStream, and reports lines/s once JetStream has stored every line (and the
// CPU a line costs, with the rate that allows when every core is free). The
// baseline, in the same run, is bare go-syslog parsing of the same lines on one goroutine: the ratio
// says what the whole path costs on top of reading the envelope.
func BenchmarkIngestEndToEnd(b *testing.B) {
	const n = 200_000
	lines := pipelinetest.SyslogLines(b, n)
	var wire bytes.Buffer
	for _, l := range lines {
		fmt.Fprintf(&wire, "%d ", len(l))
		wire.Write(l)
	}

	bare := bareParseRate(lines)
	ctx := context.Background()
	js, stream := benchJetStream(b)
	cfg := config.Default()
	zones, err := cfg.ZoneMap()
	if err != nil {
		b.Fatal(err)
	}
	parsers, err := parse.New(parse.Options{})
	if err != nil {
		b.Fatal(err)
	}
	metrics := pipeline.NewMetrics(nil)
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: js, Metrics: metrics})
	defer pub.Close(ctx)
	ing := pipeline.NewIngestor(pipeline.NormaliserOptions{Zones: zones, Parsers: parsers}, pub, metrics)
	l, err := listen.Listen(listen.Options{Name: "bench", Protocol: "tcp", Address: "127.0.0.1:0", MaxMessageBytes: 65536,
		MaxConnections: 8, Metrics: metrics, NewSink: func() listen.Sink { return ing.BatchSink("bench") }})
	if err != nil {
		b.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go l.Serve(lctx)

	// Published counts events acknowledged by JetStream; a message carries several of them.
	published := func() uint64 {
		var m dto.Metric
		if err := metrics.Published.WithLabelValues(natsbus.StreamEvents).Write(&m); err != nil {
			b.Fatal(err)
		}
		return uint64(m.GetCounter().GetValue())
	}
	var total time.Duration
	msgs0 := streamMsgs(b, stream)
	cpu0, cpuOK := processCPU()
	for b.Loop() {
		before := published()
		start := time.Now()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(c, bytes.NewReader(wire.Bytes())); err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
		for published() < before+uint64(n) {
			time.Sleep(2 * time.Millisecond)
		}
		total += time.Since(start)
	}
	if msgs := streamMsgs(b, stream) - msgs0; msgs > 0 {
		b.ReportMetric(float64(n*b.N)/float64(msgs), "events/msg")
	}
	if cpu1, ok := processCPU(); ok && cpuOK {
		// What a line costs in CPU, the sender and the embedded NATS server included, and the rate that
		// would give with every core of the machine free for it: on a busy machine lines/s falls with
		// the CPU others take, this does not.
		perLine := float64((cpu1 - cpu0).Nanoseconds()) / float64(n*b.N)
		b.ReportMetric(perLine/1000, "cpu-µs/line")
		b.ReportMetric(float64(runtime.GOMAXPROCS(0))*1e9/perLine, "cpu-bound-lines/s")
	}
	rate := float64(n*b.N) / total.Seconds()
	b.ReportMetric(rate, "lines/s")
	b.ReportMetric(bare, "bare-parse-lines/s")
	b.ReportMetric(bare/rate, "x-bare-parse")
}

func bareParseRate(lines [][]byte) float64 {
	p5424 := rfc5424.NewParser(rfc5424.WithBestEffort())
	p3164 := rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithRFC3339())
	start := time.Now()
	for _, l := range lines {
		if i := bytes.IndexByte(l, '>'); i > 0 && i+1 < len(l) && l[i+1] == '1' {
			_, _ = p5424.Parse(l)
		} else {
			_, _ = p3164.Parse(l)
		}
	}
	return float64(len(lines)) / time.Since(start).Seconds()
}

func benchJetStream(b *testing.B) (jetstream.JetStream, jetstream.Stream) {
	b.Helper()
	js := natstest.Start(b, natsbus.StreamOptions{}, jetstream.WithPublishAsyncMaxPending(4*pipeline.DefaultMaxInFlight)).JS
	ctx := context.Background()
	st, err := js.Stream(ctx, "ZW_EVENTS")
	if err != nil {
		b.Fatal(err)
	}
	return js, st
}

func streamMsgs(b *testing.B, st jetstream.Stream) uint64 {
	info, err := st.Info(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return info.State.Msgs
}
