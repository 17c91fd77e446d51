package listen_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/listen"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/internal/natsbus/natstest"
)

// TestFullJetStreamSlowsTheSender: while JetStream refuses events (a real stream at its message limit,
// which refuses new ones), the workers, the emitter and the publisher fill up and stop reading the
// connection, so the TCP sender blocks instead of lines being dropped; once the limit is lifted every
// line sent is stored, in order, and counted once.
func TestFullJetStreamSlowsTheSender(t *testing.T) {
	const lines = 150_000 // far more than the pipeline and the kernel's socket buffers hold
	wire, want := orderWire(lines, "octet")
	bus := natstest.Start(t, natsbus.StreamOptions{MaxMsgs: 1})
	metrics := pipeline.NewMetrics(nil)
	// The publisher's retry warnings are expected here; the counters say what the test needs.
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: bus.JS, Metrics: metrics, MaxInFlight: 16, Logger: slog.New(slog.DiscardHandler)})
	defer pub.Close(context.Background())
	ing := pipeline.NewIngestorWith(pipeline.IngestorOptions{Normaliser: pipelinetest.NormaliserOptions(t), Publisher: pub, Metrics: metrics, Workers: 2})
	l, err := listen.Listen(listen.Options{Name: "order", Protocol: "tcp", Address: "127.0.0.1:0", MaxMessageBytes: 512,
		MaxConnections: 2, Metrics: metrics, NewSink: func() listen.Sink { return ing.BatchSink("order") }})
	if err != nil {
		t.Fatal(err)
	}
	stop := serveUntilStopped(t, l, pub)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		_, err := c.Write(wire)
		sent <- err
	}()

	// JetStream is full: the sender must be held up, not its lines dropped.
	time.Sleep(2 * time.Second)
	select {
	case err := <-sent:
		t.Fatalf("the sender wrote all %d lines (%v) while JetStream refused them: nothing held it back", lines, err)
	default:
	}
	received := counter(metrics.Received.WithLabelValues("order"))
	if received >= lines {
		t.Fatalf("%v lines received while JetStream was full, want fewer than the %d sent", received, lines)
	}
	if refused := counter(metrics.PublishErrors.WithLabelValues("stream_full")); refused == 0 {
		t.Fatal("no publish was refused: the stream's limit did not bite, so the test shows nothing")
	}
	t.Logf("while JetStream was full: %v of %d lines read from the connection", received, lines)

	// Lift the limit: everything held comes through.
	st, err := bus.JS.Stream(t.Context(), natsbus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.MaxMsgs = -1
	if _, err := bus.JS.UpdateStream(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the sender is still blocked 60s after JetStream has room again")
	}
	_ = c.Close()
	waitCounter(t, func() float64 { return counter(metrics.Received.WithLabelValues("order")) }, lines)
	stop() // every message read is with the publisher, and stored
	got := storedUsers(t, bus.JS)
	for subject, users := range want.events {
		if len(got[subject]) != len(users) {
			t.Errorf("%s: %d events stored, want %d", subject, len(got[subject]), len(users))
			continue
		}
		for i := range users {
			if got[subject][i] != users[i] {
				t.Errorf("%s: event %d is %s, want %s (the order sent)", subject, i, got[subject][i], users[i])
				break
			}
		}
	}
	if published := counter(metrics.Published.WithLabelValues(natsbus.StreamEvents)); published != float64(want.total()) {
		t.Errorf("published_total = %v, want %d (each event once)", published, want.total())
	}
}
