package listen_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/ingest/listen"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/internal/natsbus/natstest"
)

// TestConnectionOrderAcrossWorkers sends one TCP connection's lines through a real listener, the
// Ingestor's workers and the Publisher into an embedded JetStream, and checks that spreading the lines
// over workers loses nothing and reorders nothing: every good line is an event, stored in the order sent
// on its subject (two source zones, so two subjects), every bad line is a dead letter, and the counters
// match the lines sent exactly.
func TestConnectionOrderAcrossWorkers(t *testing.T) {
	tests := []struct {
		name       string
		workers    int
		batchLines int
		framing    string
		lineSink   bool // Ingestor.Sink: one message at a time, no Flush or Close needed
	}{
		{"one worker, batches of one", 1, 1, "octet", false},
		{"three workers, odd batches", 3, 7, "octet", false},
		{"four workers, default batches", 4, 0, "newline", false},
		{"line sink", 2, 0, "octet", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const lines = 3000
			wire, want := orderWire(lines, tt.framing)
			bus := natstest.Start(t, natsbus.StreamOptions{})
			metrics := pipeline.NewMetrics(nil)
			pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: bus.JS, Metrics: metrics})
			defer pub.Close(context.Background())
			ing := pipeline.NewIngestorWith(pipeline.IngestorOptions{Normaliser: pipelinetest.NormaliserOptions(t), Publisher: pub,
				Metrics: metrics, Workers: tt.workers, BatchLines: tt.batchLines})
			l, err := listen.Listen(listen.Options{Name: "order", Protocol: "tcp", Address: "127.0.0.1:0", MaxMessageBytes: 512,
				MaxConnections: 2, Metrics: metrics, NewSink: func() listen.Sink {
					if tt.lineSink {
						return ing.Sink("order")
					}
					return ing.BatchSink("order")
				}})
			if err != nil {
				t.Fatal(err)
			}
			stop := serveUntilStopped(t, l, pub)
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			// Small writes with pauses now and then, so that batches are also closed by Flush (the
			// listener's buffer runs empty), not only by BatchLines.
			for chunk := range slicesChunk(wire, 4096) {
				if _, err := c.Write(chunk); err != nil {
					t.Fatal(err)
				}
				if len(chunk)%3 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			_ = c.Close()
			waitCounter(t, func() float64 { return counter(metrics.Received.WithLabelValues("order")) }, lines)
			stop() // every message read is with the publisher, and stored

			got := storedUsers(t, bus.JS)
			for subject, users := range want.events {
				if fmt.Sprint(got[subject]) != fmt.Sprint(users) {
					t.Errorf("%s: stored %d events %v…, want %d in the order sent %v…", subject, len(got[subject]), head(got[subject]), len(users), head(users))
				}
			}
			if len(got) != len(want.events) {
				t.Errorf("events on subjects %v, want only %v", keys(got), keys(want.events))
			}
			dead := streamCount(t, bus.JS, natsbus.StreamDead)
			if dead != want.notSyslog+want.tooLong {
				t.Errorf("dead letters stored = %d, want %d", dead, want.notSyslog+want.tooLong)
			}
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"received", counter(metrics.Received.WithLabelValues("order")), lines},
				{"parsed sshd ok", counter(metrics.Parsed.WithLabelValues("order", "sshd", event.ParseOK)), float64(want.total())},
				{"failed not_syslog", counter(metrics.Failed.WithLabelValues("order", "not_syslog")), float64(want.notSyslog)},
				{"failed too_long", counter(metrics.Failed.WithLabelValues("order", "too_long")), float64(want.tooLong)},
				{"published events", counter(metrics.Published.WithLabelValues(natsbus.StreamEvents)), float64(want.total())},
			} {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

type orderWant struct {
	events             map[string][]string // subject → user names in the order sent
	notSyslog, tooLong int
}

func (w orderWant) total() int {
	n := 0
	for _, u := range w.events {
		n += len(u)
	}
	return n
}

// orderWire makes n lines: sshd failures numbered in their user names, alternately from the lgwan and the
// internet zone, with a line that is not syslog every 50th and one longer than the limit every 101st.
func orderWire(n int, framing string) ([]byte, orderWant) {
	want := orderWant{events: map[string][]string{}}
	var wire bytes.Buffer
	for i := range n {
		var line string
		switch {
		case i%50 == 7:
			line = fmt.Sprintf("<999>garbage line %d with a PRI out of range", i)
			want.notSyslog++
		case i%101 == 3:
			line = fmt.Sprintf("<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Failed password for long%05d from 10.20.1.1 port 40022 ssh2 %s", i, strings.Repeat("x", 600))
			want.tooLong++
		default:
			src, subject := "10.20.1.5", "zw.events.lgwan.sshd"
			if i%2 == 1 {
				src, subject = "10.30.1.5", "zw.events.internet.sshd"
			}
			user := fmt.Sprintf("u%05d", i)
			line = fmt.Sprintf("<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Failed password for %s from %s port 40022 ssh2", user, src)
			want.events[subject] = append(want.events[subject], user)
		}
		if framing == "octet" {
			fmt.Fprintf(&wire, "%d %s", len(line), line)
		} else {
			wire.WriteString(line + "\n")
		}
	}
	return wire.Bytes(), want
}

// serveUntilStopped runs l until stop is called; stop waits until Serve has returned (every message read
// is with the publisher) and the publisher has stored what it holds.
func serveUntilStopped(t *testing.T, l *listen.Listener, pub *pipeline.Publisher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- l.Serve(ctx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-served; err != nil {
			t.Fatal(err)
		}
		if err := pub.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// storedUsers reads the events stream back: per subject, the user names of its events in stream order.
func storedUsers(t *testing.T, js jetstream.JetStream) map[string][]string {
	t.Helper()
	st, err := js.Stream(t.Context(), natsbus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		event.SplitBatch(m.Data, func(line []byte) {
			var e event.Event
			if err := event.Decode(line, &e); err != nil {
				t.Errorf("message %d: %v", seq, err)
				return
			}
			out[m.Subject] = append(out[m.Subject], e.User.Name)
		})
	}
	return out
}

func streamCount(t *testing.T, js jetstream.JetStream, stream string) int {
	t.Helper()
	st, err := js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Msgs)
}

func waitCounter(t *testing.T, get func() float64, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for get() < want {
		if time.Now().After(deadline) {
			t.Fatalf("counter at %v after 30s, want %v", get(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		r := bytes.NewReader(b)
		for size := 1; ; size = size%n + 97 {
			chunk := make([]byte, size)
			k, err := io.ReadFull(r, chunk)
			if k > 0 && !yield(chunk[:k]) {
				return
			}
			if err != nil {
				return
			}
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestUDPOrderAcrossWorkers: a UDP socket's datagrams take the same batched path (held while more are
// queued in the socket, handed on when it is empty) and are stored in the order sent, each once.
func TestUDPOrderAcrossWorkers(t *testing.T) {
	const lines = 2000
	bus := natstest.Start(t, natsbus.StreamOptions{})
	metrics := pipeline.NewMetrics(nil)
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: bus.JS, Metrics: metrics})
	defer pub.Close(context.Background())
	ing := pipeline.NewIngestorWith(pipeline.IngestorOptions{Normaliser: pipelinetest.NormaliserOptions(t), Publisher: pub, Metrics: metrics, Workers: 3, BatchLines: 16})
	l, err := listen.Listen(listen.Options{Name: "order", Protocol: "udp", Address: "127.0.0.1:0", MaxMessageBytes: 512,
		ReceiveBufferBytes: 4 << 20, Metrics: metrics, NewSink: func() listen.Sink { return ing.BatchSink("order") }})
	if err != nil {
		t.Fatal(err)
	}
	stop := serveUntilStopped(t, l, pub)
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range lines {
		user := fmt.Sprintf("u%05d", i)
		want = append(want, user)
		line := fmt.Sprintf("<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Failed password for %s from 10.20.1.5 port 40022 ssh2", user)
		if _, err := c.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		if i%20 == 19 {
			// Bursts and gaps: batches closed both ways, and the kernel's queue (net.core.rmem_max
			// caps the buffer asked for) never overflows.
			time.Sleep(time.Millisecond)
		}
	}
	waitCounter(t, func() float64 {
		return counter(metrics.Received.WithLabelValues("order")) + counter(metrics.UDPDropped.WithLabelValues("order"))
	}, lines)
	if dropped := counter(metrics.UDPDropped.WithLabelValues("order")); dropped > 0 {
		t.Fatalf("the kernel dropped %v datagrams on loopback with a 4 MiB buffer; the test cannot check order", dropped)
	}
	stop() // every message read is with the publisher, and stored
	got := storedUsers(t, bus.JS)["zw.events.lgwan.sshd"]
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored %d events %v…, want %d in the order sent %v…", len(got), head(got), len(want), head(want))
	}
}
