package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// testJetStream is an embedded JetStream server with zonewatch's streams.
func testJetStream(t *testing.T) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	srv, err := natsbus.StartServer(natsbus.ServerOptions{Listen: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := natsbus.Connect(natsbus.ConnOptions{URLs: []string{srv.ClientURL()}, Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := natsbus.EnsureStreams(t.Context(), js, natsbus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), natsbus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	return js, st
}

// storedBatch is one message of the events stream: its id and the ids of the events it carries.
type storedBatch struct {
	msgID string
	ids   []string
}

// storedBatches reads every message of the stream back and decodes its events.
func storedBatches(t *testing.T, st jetstream.Stream) []storedBatch {
	t.Helper()
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []storedBatch
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		b := storedBatch{msgID: m.Header.Get(jetstream.MsgIDHeader)}
		event.SplitBatch(m.Data, func(line []byte) {
			var e event.Event
			if err := event.Decode(line, &e); err != nil {
				t.Errorf("message %d: %v in %q", seq, err, line)
				return
			}
			b.ids = append(b.ids, e.ID)
		})
		out = append(out, b)
	}
	return out
}

func testEvents(n int, zone string) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		out[i] = event.Event{ID: fmt.Sprintf("%s-%04d", zone, i), Timestamp: time.Date(2026, 11, 2, 9, 0, i, 0, time.UTC),
			Message: fmt.Sprintf("Failed password for u%d\nwith a newline in it", i)}
		out[i].Source.Zone, out[i].Meta.Module = zone, "sshd"
	}
	return out
}

func publishedEvents(t *testing.T, m *Metrics) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Published.WithLabelValues(natsbus.StreamEvents).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

// TestWaitPublishesBatches: Wait publishes what the buffers hold (the linger timer is an hour here, so
// only Wait can have sent it) and returns once JetStream has it; batches split at MaxBatchEvents and
// MaxBatchBytes, each message carries its events in order, and its id is the first event's id + count.
func TestWaitPublishesBatches(t *testing.T) {
	size := len(mustEncode(t, &testEvents(1, "lgwan")[0])) + 1
	tests := []struct {
		name      string
		events    int
		maxEvents int
		maxBytes  int
		want      []int // events per message
	}{
		{"a partial batch", 7, 100, 0, []int{7}},
		{"one event", 1, 100, 0, []int{1}},
		{"full batches and a partial one", 250, 100, 0, []int{100, 100, 50}},
		{"exactly full", 200, 100, 0, []int{100, 100}},
		{"split by bytes", 10, 100, 3*size + size/2, []int{3, 3, 3, 1}},
		{"one event per message", 3, 1, 0, []int{1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, st := testJetStream(t)
			m := NewMetrics(nil)
			p := NewPublisher(PublisherOptions{JS: js, Metrics: m, MaxBatchEvents: tt.maxEvents, MaxBatchBytes: tt.maxBytes, Linger: time.Hour})
			defer p.Close(context.Background())
			events := testEvents(tt.events, "lgwan")
			for i := range events {
				if err := p.Event(t.Context(), &events[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := publishedEvents(t, m); got != float64(tt.events) {
				t.Errorf("zonewatch_ingest_published_total = %v, want %d events", got, tt.events)
			}
			var got []int
			var ids []string
			for _, b := range storedBatches(t, st) {
				got = append(got, len(b.ids))
				if want := fmt.Sprintf("%s+%d", b.ids[0], len(b.ids)); b.msgID != want {
					t.Errorf("message id %q, want %q", b.msgID, want)
				}
				ids = append(ids, b.ids...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events per message %v, want %v", got, tt.want)
			}
			var want []string
			for _, e := range events {
				want = append(want, e.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("stored events %v, want %v", ids, want)
			}
		})
	}
}

// TestLingerAndClose: a buffer is published after Linger without Wait; subjects are batched apart; Close
// publishes what is left and refuses new events.
func TestLingerAndClose(t *testing.T) {
	js, st := testJetStream(t)
	m := NewMetrics(nil)
	p := NewPublisher(PublisherOptions{JS: js, Metrics: m, Linger: 20 * time.Millisecond})
	lg, mn := testEvents(3, "lgwan"), testEvents(2, "mynumber")
	for _, e := range []*event.Event{&lg[0], &mn[0], &lg[1], &mn[1], &lg[2]} {
		if err := p.Event(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for publishedEvents(t, m) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s only %v of 5 events published with a linger of 20ms", publishedEvents(t, m))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Usually two messages, one per subject; a linger tick between two Event calls may split one.
	var ids []string
	for _, b := range storedBatches(t, st) {
		zone := strings.Split(b.ids[0], "-")[0]
		for _, id := range b.ids {
			if !strings.HasPrefix(id, zone+"-") {
				t.Errorf("message %s mixes subjects: %v", b.msgID, b.ids)
			}
		}
		ids = append(ids, b.ids...)
	}
	slices.Sort(ids)
	if want := []string{"lgwan-0000", "lgwan-0001", "lgwan-0002", "mynumber-0000", "mynumber-0001"}; !slices.Equal(ids, want) {
		t.Errorf("stored %q, want %q", ids, want)
	}

	late := testEvents(4, "internet")
	if err := p.Event(t.Context(), &late[3]); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := publishedEvents(t, m); got != 6 {
		t.Errorf("after Close %v events published, want 6", got)
	}
	if err := p.Event(t.Context(), &late[0]); err == nil {
		t.Error("Event after Close was accepted")
	}
}

// TestFlushKeepsOrderAcrossSubjects: Wait publishes the buffers in the order their first events came.
func TestFlushKeepsOrderAcrossSubjects(t *testing.T) {
	js, st := testJetStream(t)
	p := NewPublisher(PublisherOptions{JS: js, Linger: time.Hour})
	defer p.Close(context.Background())
	in, lg, mn := testEvents(1, "internet"), testEvents(2, "lgwan"), testEvents(2, "mynumber")
	for _, e := range []*event.Event{&mn[0], &lg[0], &mn[1], &in[0], &lg[1]} {
		if err := p.Event(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range storedBatches(t, st) {
		got = append(got, strings.Join(b.ids, ","))
	}
	if want := []string{"mynumber-0000,mynumber-0001", "lgwan-0000,lgwan-0001", "internet-0000"}; !slices.Equal(got, want) {
		t.Errorf("messages in the stream %q, want %q", got, want)
	}
}

func mustEncode(t *testing.T, e *event.Event) []byte {
	t.Helper()
	b, err := encodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
