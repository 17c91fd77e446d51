package listen_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/zonewatch/zonewatch/ingest/listen"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
)

// gateSink holds the first message until released, so the kernel's receive queue fills up behind it.
type gateSink struct {
	gate <-chan struct{}
	once *sync.Once
	got  *atomic.Int64
}

func (s gateSink) Message(_ context.Context, _ netip.Addr, _ []byte, _ bool) error {
	s.once.Do(func() { <-s.gate })
	s.got.Add(1)
	return nil
}

func (gateSink) Flush(context.Context) error { return nil }
func (gateSink) Close(context.Context) error { return nil }

// TestUDPDropsAreCounted overflows a real socket's receive queue (a tiny SO_RCVBUF while the reader is
// held up) and checks that every datagram sent is either received or counted as dropped: UDP losses
// are never silent.
func TestUDPDropsAreCounted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("drop accounting uses Linux's SO_RXQ_OVFL")
	}
	reg := prometheus.NewRegistry()
	metrics := pipeline.NewMetrics(reg)
	gate := make(chan struct{})
	var got atomic.Int64
	once := &sync.Once{}
	l, err := listen.Listen(listen.Options{Name: "udp-test", Protocol: "udp", Address: "127.0.0.1:0",
		MaxMessageBytes: 8192, ReceiveBufferBytes: 4096, Metrics: metrics,
		NewSink: func() listen.Sink { return gateSink{gate: gate, once: once, got: &got} }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const burst = 2000
	for i := range burst {
		fmt.Fprintf(c, "<134>1 2026-11-02T10:00:00+09:00 fw01 app - - - line %d with some padding to make it real", i)
	}
	close(gate)
	// Drops are reported with the next datagram the kernel queues, so send one after the queue drained.
	waitFor(t, func() bool { return got.Load() > 0 && quiet(&got) })
	fmt.Fprintf(c, "<134>1 2026-11-02T10:00:01+09:00 fw01 app - - - marker")
	sent := int64(burst + 1)
	waitFor(t, func() bool {
		dropped := int64(counter(metrics.UDPDropped.WithLabelValues("udp-test")))
		return got.Load()+dropped == sent
	})
	dropped := int64(counter(metrics.UDPDropped.WithLabelValues("udp-test")))
	if dropped == 0 {
		t.Fatalf("no drops counted although %d datagrams were sent into a 4 KiB queue that was not read", burst)
	}
	if rec := int64(counter(metrics.Received.WithLabelValues("udp-test"))); rec != got.Load() {
		t.Errorf("received metric %d, sink saw %d", rec, got.Load())
	}
	t.Logf("sent %d, received %d, counted as dropped %d", sent, got.Load(), dropped)
}

// quiet reports whether the counter stays still for a moment (the reader has drained the queue).
func quiet(n *atomic.Int64) bool {
	before := n.Load()
	time.Sleep(100 * time.Millisecond)
	return n.Load() == before
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}
