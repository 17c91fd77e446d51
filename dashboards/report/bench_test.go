package report_test

// BenchmarkReport prints figures and asserts no timings. Run it once:
//
//	go test -run '^$' -bench Report -benchtime 1x ./dashboards/report/
//
// ZW_BENCH_RATE sets the simulated lines per second (default 1.2: about 3.1 million events in November).

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/dashboards/report"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/fromrules"
)

// BenchmarkReport: the time to build the report of a simulated month (and to render it in every
// format) as a ratio to one SELECT count() over that month's raw events, measured in the same run.
// Target: the report costs no more than 30 such scans.
func BenchmarkReport(b *testing.B) {
	rate := 1.2
	if v, err := strconv.ParseFloat(os.Getenv("ZW_BENCH_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	conn, db := chtest.NewDatabase(b)
	migrate(b, conn, db)
	from, to, _ := report.MonthRange(month)
	start := time.Now()
	d := loadSimulated(b, conn, db, from, to, rate)
	insertActions(b, conn, db, d.stored)
	ctx := context.Background()
	// Copies of the simulated month, each a few milliseconds later with ids of their own, make the
	// volume (the rollups' views see them too); the simulator alone fills a month slowly.
	copies := 1
	if v, err := strconv.Atoi(os.Getenv("ZW_BENCH_COPIES")); err == nil && v > 0 {
		copies = v
	} else if os.Getenv("ZW_BENCH_COPIES") == "" {
		copies = 20
	}
	if copies > 1 {
		cols := strings.ReplaceAll(writer.EventColumns, "\n", " ")
		sel := strings.NewReplacer("id,", "concat(id, '-', toString(n)),", "timestamp,", "timestamp + toIntervalMillisecond(n),").Replace(cols)
		sql := fmt.Sprintf("INSERT INTO %s.events (%s) SELECT %s FROM %s.events ARRAY JOIN range(1, %d) AS n", db, cols, sel, db, copies)
		if err := conn.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
		d.events *= copies
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+db+".events FINAL"); err != nil {
		b.Fatal(err)
	}
	b.Logf("simulated and loaded %d events, %d alerts in %s", d.events, len(d.stored), time.Since(start).Round(time.Second))
	eng, err := query.New(query.Options{Conn: conn, Database: db, Sources: []query.Source{query.EventsHourly},
		Lists: fromrules.Lists(d.rules), Limits: query.Limits{MaxScanRows: 5_000_000}})
	if err != nil {
		b.Fatal(err)
	}
	opts := simOptions(d, eng, conn, db)
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const layout = "2006-01-02 15:04:05.000"
	count := func() time.Duration {
		t := time.Now()
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".events WHERE timestamp >= ? AND timestamp < ?",
			from.UTC().Format(layout), to.UTC().Format(layout)).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n != uint64(d.events) {
			b.Fatalf("count() = %d, want the %d events loaded", n, d.events)
		}
		return time.Since(t)
	}
	median := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	for b.Loop() {
		var scans []time.Duration
		for range 5 {
			scans = append(scans, count())
		}
		t := time.Now()
		r, err := report.Build(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		build := time.Since(t)
		t = time.Now()
		for _, render := range []func() error{
			func() error { return report.RenderPDF(&bytes.Buffer{}, r, report.PDFOptions{}) },
			func() error { return report.RenderHTML(&bytes.Buffer{}, r) },
			func() error { return report.RenderXLSX(&bytes.Buffer{}, r) },
		} {
			if err := render(); err != nil {
				b.Fatal(err)
			}
		}
		rendering := time.Since(t)
		for range 5 {
			scans = append(scans, count())
		}
		scan := median(scans)
		b.ReportMetric(build.Seconds(), "build_s")
		b.ReportMetric(rendering.Seconds(), "render_s")
		b.ReportMetric(scan.Seconds()*1000, "count_ms")
		b.ReportMetric(float64(build)/float64(scan), "build/count")
		b.ReportMetric(float64(build+rendering)/float64(scan), "report/count")
		b.Logf("%d events: build %s, render PDF+HTML+XLSX %s, SELECT count() over the month %s (median of 10): build = %.1f scans, build+render = %.1f scans (target ≤ 30)",
			d.events, build.Round(time.Millisecond), rendering.Round(time.Millisecond), scan.Round(time.Microsecond), float64(build)/float64(scan), float64(build+rendering)/float64(scan))
	}
}
