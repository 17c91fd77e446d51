package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/simulate"
)

// simulatedEvents normalises a simulated hour of every zone's syslog traffic, incidents included.
func simulatedEvents(tb testing.TB, max int) []event.Event {
	tb.Helper()
	zones, err := config.Default().ZoneMap()
	if err != nil {
		tb.Fatal(err)
	}
	parsers, err := parse.New(parse.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	norm := NewNormaliser(NormaliserOptions{Zones: zones, Parsers: parsers})
	from := time.Date(2026, 11, 2, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	sim, err := simulate.New(simulate.Options{Seed: 3, From: from, To: from.Add(time.Hour), Rate: 20, Incidents: true})
	if err != nil {
		tb.Fatal(err)
	}
	s := &eventSink{norm: norm, max: max}
	if err := sim.Run(context.Background(), s); err != nil && !errors.Is(err, errFull) {
		tb.Fatal(err)
	}
	if len(s.events) == 0 {
		tb.Fatal("the simulator gave no syslog lines")
	}
	return s.events
}

var errFull = errors.New("enough events")

type eventSink struct {
	norm   *Normaliser
	events []event.Event
	max    int
}

func (s *eventSink) Send(_ context.Context, l *simulate.Line) error {
	if len(s.events) >= s.max {
		return errFull
	}
	var e event.Event
	var err error
	if l.Transport == "file" {
		e, err = s.norm.File("file", l.Format, event.NewID(l.Time), string(l.Wire))
	} else {
		e, err = s.norm.Syslog("tcp", netip.MustParseAddr("10.20.0.1"), l.Wire)
	}
	if err == nil {
		s.events = append(s.events, e)
	}
	return nil
}
func (s *eventSink) Close() error { return nil }

// TestEncodeEventMatchesEncodingJSON: the bus carries exactly what encoding/json would write, so
// consumers that decode with either library read the same events.
func TestEncodeEventMatchesEncodingJSON(t *testing.T) {
	evs := simulatedEvents(t, 20000)
	// Awkward text the parsers let through: HTML characters, control bytes, invalid UTF-8, line breaks.
	odd := evs[0]
	odd.Message = "<script>&\u2028\x01\xff\n\"quoted\""
	odd.Labels = map[string]string{"b": "2", "a": "<1>"}
	evs = append(evs, odd)
	for i := range evs {
		want, err := json.Marshal(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeEvent(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("event %d (%s) encodes differently:\n go-json       %s\n encoding/json %s", i, evs[i].Meta.Module, got, want)
		}
	}
	t.Logf("%d events encode identically", len(evs))
}

// BenchmarkEncodeEvent compares the bus encoding with encoding/json on the simulator's mix.
func BenchmarkEncodeEvent(b *testing.B) {
	evs := simulatedEvents(b, 5000)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			_, _ = json.Marshal(&evs[i%len(evs)])
		}
	})
	b.Run("go-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			_, _ = gojson.Marshal(&evs[i%len(evs)])
		}
	})
	b.Run("append-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for i := 0; b.Loop(); i++ {
			buf, _ = event.AppendJSON(buf[:0], &evs[i%len(evs)])
		}
	})
}
