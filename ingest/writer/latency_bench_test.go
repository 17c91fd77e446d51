package writer_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// BenchmarkEndToEndLatency: from a syslog line handed to ingest (framed, as a listener hands it on)
// to its event being returned by a query, for the simulator's mix at a steady 2000 lines/s (a busy
// hour of the example deployment is about 300/s): ingest's normalising and batching (≤ 5 ms linger),
// JetStream, the writer's batch (flush interval), the INSERT and the part becoming visible. The time
// of arrival is the event's ingested time, which the normaliser sets when the line comes in.
func BenchmarkEndToEndLatency(b *testing.B) {
	for _, flush := range []time.Duration{time.Second, 200 * time.Millisecond} {
		b.Run("flush="+flush.String(), func(b *testing.B) {
			for b.Loop() {
				p50, p99 := arrivalLatency(b, flush)
				b.ReportMetric(p50.Seconds()*1000, "p50_ms")
				b.ReportMetric(p99.Seconds()*1000, "p99_ms")
				b.Logf("flush %v: line arrives → queryable p50 %v, p99 %v (target p99 ≤ 2s)", flush, p50.Round(time.Millisecond), p99.Round(time.Millisecond))
			}
		})
	}
}

func arrivalLatency(b *testing.B, flush time.Duration) (p50, p99 time.Duration) {
	const rate, seconds = 2000, 8
	const n = rate * seconds
	lines := pipelinetest.SyslogLines(b, n)
	conn, db := migrated(b)
	bus := startBus(b, natsbus.StreamOptions{})
	runWriter(b, writer.Options{JS: bus.js, CH: conn, Database: db, FlushInterval: flush, MonitorInterval: -1})
	metrics := pipeline.NewMetrics(nil)
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: bus.js, Metrics: metrics, Logger: quiet()})
	sink := pipeline.NewIngestor(pipelinetest.NormaliserOptions(b), pub, metrics).Sink("bench")
	ctx := context.Background()

	visible := map[string]time.Duration{} // event id → arrival to first seen by a query
	done := make(chan struct{})
	go func() {
		defer close(done)
		since := time.Now().Add(-time.Minute)
		for deadline := time.Now().Add(2 * time.Minute); len(visible) < n && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			rows, err := conn.Query(ctx, "SELECT id, ingested FROM events WHERE ingested >= ?", since)
			if err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			var newest time.Time
			for rows.Next() {
				var id string
				var ingested time.Time
				if err := rows.Scan(&id, &ingested); err != nil {
					b.Error(err)
					rows.Close()
					return
				}
				if _, ok := visible[id]; !ok {
					visible[id] = now.Sub(ingested)
				}
				if ingested.After(newest) {
					newest = ingested
				}
			}
			rows.Close()
			if !newest.IsZero() {
				// Rows become visible a flush interval or so out of order: look that far back.
				since = newest.Add(-flush - 3*time.Second)
			}
		}
	}()
	peer := netip.MustParseAddr("10.20.0.1")
	start := time.Now()
	for i, line := range lines {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
		if err := sink.Message(ctx, peer, line, false); err != nil {
			b.Fatal(err)
		}
	}
	if err := pub.Close(ctx); err != nil {
		b.Fatal(err)
	}
	<-done
	if len(visible) < n {
		b.Fatalf("%d of %d events became queryable within two minutes", len(visible), n)
	}
	lat := make([]time.Duration, 0, len(visible))
	for _, d := range visible {
		lat = append(lat, d)
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100]
}
