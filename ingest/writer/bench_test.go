package writer_test

// Benchmarks print figures and never assert timings. Run them once each:
//
//	go test -run '^$' -bench . -benchtime 1x ./ingest/writer/
//
// They share the machine with ClickHouse and NATS: compare the ratios printed within one run, not the
// absolute rates across machines or runs.

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/internal/simulate"
)

// BenchmarkWriterVersusBareInsert: rows/s from JetStream into ClickHouse through the writer (fetch, JSON
// decode, look-ups, INSERT, acks) as a ratio to a bare clickhouse-go batch insert (PrepareBatch, Append
// per row, Send) of the same events, already decoded, into an identical table in the same run. The
// bare insert is run before and after the writer and averaged, to even out the machine's load.
// It runs twice: with one event per message, and with the events batched as ingest's Publisher
// publishes them (several per message).
func BenchmarkWriterVersusBareInsert(b *testing.B) {
	b.Run("one-per-message", func(b *testing.B) { benchWriter(b, func(bus *bus, events []event.Event) { bus.publish(b, events) }) })
	b.Run("batched", func(b *testing.B) {
		benchWriter(b, func(bus *bus, events []event.Event) {
			pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: bus.js, Logger: quiet()})
			for i := range events {
				if err := pub.Event(context.Background(), &events[i]); err != nil {
					b.Fatal(err)
				}
			}
			if err := pub.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	})
}

func benchWriter(b *testing.B, publish func(*bus, []event.Event)) {
	const batch = 20_000
	n := benchN(200_000)
	events := genEvents(11, n, time.Now(), 24*time.Hour)
	for b.Loop() {
		bareConn, _ := migrated(b)
		bare1 := bareInsert(b, bareConn, events[:n/2], batch)
		conn, db := migrated(b)
		bus := startBus(b, natsbus.StreamOptions{})
		publish(bus, events)
		start := time.Now()
		_, reg := runWriter(b, writer.Options{JS: bus.js, CH: conn, Database: db, BatchSize: batch, MonitorInterval: -1})
		waitFor(b, 10*time.Minute, "the writer", func() bool { return metric(b, reg, "zonewatch_writer_rows_inserted_total") == float64(n) })
		w := float64(n) / time.Since(start).Seconds()
		bare2 := bareInsert(b, bareConn, events[n/2:], batch)
		bare := (bare1 + bare2) / 2
		b.ReportMetric(w, "writer_rows/s")
		b.ReportMetric(bare, "bare_rows/s")
		b.ReportMetric(w/bare, "writer/bare")
		b.Logf("writer %.0f rows/s, bare insert %.0f and %.0f rows/s: ratio %.2f (target ≥ 0.8)", w, bare1, bare2, w/bare)
		b.Logf("writer: mean batch %.0f messages, %.0f events, mean INSERT %.3fs", metric(b, reg, "zonewatch_writer_batch_messages"),
			metric(b, reg, "zonewatch_writer_batch_events"), metric(b, reg, "zonewatch_writer_batch_seconds"))
	}
}

// benchN is $ZW_BENCH_N, or def: fewer events for a quick profile.
func benchN(def int) int {
	if v, err := strconv.Atoi(os.Getenv("ZW_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return def
}

func bareInsert(b *testing.B, conn driver.Conn, events []event.Event, batch int) (rowsPerSecond float64) {
	ctx := context.Background()
	start := time.Now()
	for chunk := range slices.Chunk(events, batch) {
		bt, err := conn.PrepareBatch(ctx, "INSERT INTO events ("+writer.EventColumns+")")
		if err != nil {
			b.Fatal(err)
		}
		for i := range chunk {
			if err := bt.Append(row(&chunk[i])...); err != nil {
				b.Fatal(err)
			}
		}
		if err := bt.Send(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(len(events)) / time.Since(start).Seconds()
}

// row is the straightforward mapping of an event to the events table's columns.
func row(e *event.Event) []any {
	labels := e.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	ip := func(a netip.Addr) net.IP { b := a.As16(); return net.IP(b[:]) }
	text := event.StoreText(e) // the stored form is part of the row, as the writer makes it
	return []any{
		e.ID, e.Timestamp, e.Meta.Ingested, e.Observer.Hostname, ip(e.Observer.IP), e.Observer.Zone, e.Log.Listener,
		e.Meta.Module, e.Log.ParseStatus, e.Log.ParseError,
		e.Meta.Category, e.Meta.Action, e.Meta.Outcome, e.Meta.Severity, e.Log.Facility,
		ip(e.Source.IP), e.Source.Port, e.Source.Zone, e.Source.Host,
		ip(e.Destination.IP), e.Destination.Port, e.Destination.Zone, e.Destination.Host,
		e.Meta.CrossZone, e.Network.Transport, e.Network.Protocol, e.User.Name, e.URL.Domain, e.URL.Original,
		e.HTTP.Method, e.HTTP.Status, e.URL.Category, e.HTTP.UserAgent,
		e.Source.Bytes, e.Destination.Bytes, e.Process.Name, text.MessageTemplate, text.RawHead, text.RawWhole, text.Verbatim, labels,
	}
}

// BenchmarkStorageBytesPerEvent: bytes on disk per event in events (and in all rollups together) after
// OPTIMIZE FINAL, for the simulator's realistic traffic (internal/simulate) parsed and zone-tagged by
// ingest's normaliser, settled and as the newest day's parts; the generator of these tests as a third mix.
func BenchmarkStorageBytesPerEvent(b *testing.B) {
	n := benchN(300_000)
	mixes := []struct {
		name   string
		events func(testing.TB) []event.Event
	}{
		{"simulated", func(tb testing.TB) []event.Event { return simulatedEvents(tb, n) }},
		// The same traffic arrived just now: the newest day's parts, still LZ4 (migration 0011).
		{"simulated-newest-day", func(tb testing.TB) []event.Event {
			events, now := simulatedEvents(tb, n), time.Now()
			for i := range events {
				events[i].Meta.Ingested = now
			}
			return events
		}},
		{"generated", func(testing.TB) []event.Event { return genEvents(12, n, time.Now(), 7*24*time.Hour) }},
	}
	for _, mix := range mixes {
		b.Run(mix.name, func(b *testing.B) {
			events := mix.events(b)
			for b.Loop() {
				conn, db := migrated(b)
				bus := startBus(b, natsbus.StreamOptions{})
				bus.publish(b, events)
				_, reg := runWriter(b, writer.Options{JS: bus.js, CH: conn, Database: db, MonitorInterval: -1})
				waitFor(b, 10*time.Minute, "the writer", func() bool {
					return metric(b, reg, "zonewatch_writer_rows_inserted_total") == float64(len(events))
				})
				ctx := context.Background()
				for _, t := range []string{"events", "events_hourly", "proxy_categories_hourly", "source_health_hourly", "user_activity_15m", "user_zones_hourly"} {
					if err := conn.Exec(ctx, "OPTIMIZE TABLE "+t+" FINAL"); err != nil {
						b.Fatal(err)
					}
				}
				var evBytes, rollBytes, rows uint64
				if err := conn.QueryRow(ctx, `SELECT sumIf(bytes_on_disk, table = 'events'), sumIf(bytes_on_disk, table != 'events'), sumIf(rows, table = 'events')
					FROM system.parts WHERE database = ? AND active`, db).Scan(&evBytes, &rollBytes, &rows); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(evBytes)/float64(rows), "B/event")
				b.ReportMetric(float64(rollBytes)/float64(rows), "rollup_B/event")
				b.Logf("%s: %d events, %.1f B/event on disk in events (target ≤ 30), %.2f B/event in the rollups; raw line mean %.0f B",
					mix.name, rows, float64(evBytes)/float64(rows), float64(rollBytes)/float64(rows), meanRaw(events))
				logColumns(b, conn, db, rows)
			}
		})
	}
}

func meanRaw(events []event.Event) float64 {
	var s int
	for i := range events {
		s += len(events[i].Meta.Original)
	}
	return float64(s) / float64(max(1, len(events)))
}

// logColumns prints the heaviest columns per event, to see where the bytes go.
func logColumns(b *testing.B, conn driver.Conn, db string, rows uint64) {
	r, err := conn.Query(context.Background(), `SELECT name, data_compressed_bytes, data_uncompressed_bytes FROM system.columns
		WHERE database = ? AND table = 'events' ORDER BY data_compressed_bytes DESC LIMIT 8`, db)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var name string
		var c, u uint64
		if err := r.Scan(&name, &c, &u); err != nil {
			b.Fatal(err)
		}
		b.Logf("  %-16s %6.2f B/event compressed (%6.1f uncompressed)", name, float64(c)/float64(rows), float64(u)/float64(rows))
	}
}

var errEnough = errors.New("enough lines")

// simulatedEvents runs the simulator's realistic traffic through ingest's normaliser, as serve does.
func simulatedEvents(tb testing.TB, n int) []event.Event {
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	sim, err := simulate.New(simulate.Options{Seed: 1, From: from, To: from.AddDate(0, 0, 14), Incidents: true})
	if err != nil {
		tb.Fatal(err)
	}
	events, dead := pipelinetest.Events(tb, sim, pipelinetest.Options{}, n)
	if len(events) < n/2 {
		tb.Fatalf("the simulator gave %d events, want about %d", len(events), n)
	}
	tb.Logf("simulated %d events (%d lines dead-lettered)", len(events), dead)
	return events
}

// BenchmarkStoreText: the writer's CPU per event for cutting the typed columns' values out of the
// message and header (event.StoreText, migration 0013), against splitting the raw line alone (SplitRaw,
// what the writer did before) in the same run, over the simulator's traffic.
func BenchmarkStoreText(b *testing.B) {
	events := simulatedEvents(b, benchN(20_000))
	var sink int
	for _, bc := range []struct {
		name string
		f    func(e *event.Event) int
	}{
		{"split-raw", func(e *event.Event) int { h, _ := event.SplitRaw(e.Meta.Original, e.Message); return len(h) }},
		{"store-text", func(e *event.Event) int { t := event.StoreText(e); return len(t.MessageTemplate) + len(t.RawHead) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				for i := range events {
					sink += bc.f(&events[i])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
		})
	}
	_ = sink
}
