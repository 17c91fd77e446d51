package query_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/internal/testdb"
)

// BenchmarkDashboardQueries measures each dashboard query shape over generated events spread over
// 30 days: 1e6 by default, ZW_BENCH_EVENTS=10000000 for 1e7 (the figure). The events are
// made inside ClickHouse (testdb.GenerateInServer) with the rollups (events_hourly,
// user_zones_hourly) fed by their materialised views, as in production. For every shape it reports p50 and p99 latencies through
// an engine configured as serve configures it (rollup first), p50 as a ratio to a baseline measured
// in the same run (one full scan of one column of the events table, so that figures taken on a
// loaded machine can be compared), and, for the shapes the rollup serves, the p50 through an
// engine without the rollups and the speed-up. It asserts nothing about the figures; it fails only
// when a shape a rollup should serve is answered from another table.
//
//	go test ./query -run '^$' -bench Dashboard -benchtime 20x
//	ZW_BENCH_EVENTS=10000000 go test ./query -run '^$' -bench Dashboard -benchtime 20x -timeout 30m
func BenchmarkDashboardQueries(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("ZW_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("ZW_BENCH_EVENTS=%q: give a positive number of events", v)
		}
	}
	conn, db := testdb.New(b, "0005_rollups", "0009_rollup_scopes")
	// Loading and merging 1e7 rows on a shared machine can read nothing for longer than the
	// driver's default read timeout: they get a connection of their own with a long one.
	long, err := clickhouse.Open(b.Context(), clickhouse.ConnOptions{Addr: []string{chtest.Server(b).NativeAddr()}, Database: db, ReadTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer long.Close()
	bt0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	days := 30 * 24 * time.Hour
	start := time.Now()
	if err := testdb.GenerateInServer(b.Context(), long, db, n, bt0, days); err != nil {
		b.Fatal(err)
	}
	loaded := time.Since(start)
	for _, t := range []string{"events", "events_hourly", "user_zones_hourly"} {
		if err := long.Exec(b.Context(), "OPTIMIZE TABLE "+db+"."+t+" FINAL"); err != nil {
			b.Logf("optimize %s: %v", t, err)
		}
	}
	var stored, hourly, users, lgwanSources, addrs uint64
	if err := conn.QueryRow(b.Context(), "SELECT count(), countIf(startsWith(toString(source_ip), '::ffff:10.20.')), uniqExact(source_ip), (SELECT count() FROM "+db+".events_hourly), (SELECT count() FROM "+db+".user_zones_hourly) FROM "+db+".events").
		Scan(&stored, &lgwanSources, &addrs, &hourly, &users); err != nil {
		b.Fatal(err)
	}
	if stored != uint64(n) || lgwanSources == 0 || addrs < 100 {
		b.Fatalf("%d events stored (want %d), %d from 10.20.0.0/16, %d distinct source addresses: the generator is broken", stored, n, lgwanSources, addrs)
	}
	fmt.Printf("loaded %d events in %s (merged after %s); events_hourly holds %d rows, user_zones_hourly %d\n",
		n, loaded.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), hourly, users)
	now := func() time.Time { return bt0.Add(days) }
	raw, err := query.New(query.Options{Conn: conn, Database: db, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	served, err := query.New(query.Options{Conn: conn, Database: db, Now: now, Sources: query.Rollups()})
	if err != nil {
		b.Fatal(err)
	}
	end := bt0.Add(days)
	day := query.Query{From: end.Add(-24 * time.Hour), To: end}
	week := query.Query{From: end.Add(-7 * 24 * time.Hour), To: end}
	month := query.Query{From: bt0, To: end}
	scoped := func(q query.Query) query.Query { q.Scope = query.Scope{Hidden: []string{"mynumber"}}; return q }
	with := func(q query.Query, f string) query.Query { q.Filter = f; return q }
	ctx := b.Context()
	// Each shape returns the table that answered it.
	type shape struct {
		name   string
		rollup string // the rollup that serves it, if any
		run    func(e *query.Engine) (string, error)
	}
	zonepairs := func(q query.Query) func(e *query.Engine) (string, error) {
		return func(e *query.Engine) (string, error) {
			m, err := e.ZonePairs(ctx, q)
			if err != nil {
				return "", err
			}
			return m.Source, nil
		}
	}
	result := func(r *query.Result, err error) (string, error) {
		if err != nil {
			return "", err
		}
		return r.Source, nil
	}
	searched := func(q query.Query) func(e *query.Engine) (string, error) {
		return func(e *query.Engine) (string, error) {
			_, err := e.Search(ctx, q)
			return "events", err
		}
	}
	shapes := []shape{
		{"zonepairs/24h", query.EventsHourly.Table, zonepairs(day)},
		{"zonepairs/30d", query.EventsHourly.Table, zonepairs(month)},
		{"zonepairs/30d-scoped", query.EventsHourly.Table, zonepairs(scoped(month))},
		{"timeseries/7d-by-action", query.EventsHourly.Table, func(e *query.Engine) (string, error) {
			q := week
			q.GroupBy = []string{"event.action"}
			q.Bucket = time.Hour
			return result(e.TimeSeries(ctx, q))
		}},
		{"timeseries/30d-denied-by-source-type", query.EventsHourly.Table, func(e *query.Engine) (string, error) {
			q := month
			q.GroupBy = []string{"event.module"}
			q.Aggs = []query.Agg{{Op: query.Denied}}
			q.Bucket = 24 * time.Hour
			return result(e.TimeSeries(ctx, q))
		}},
		{"timeseries/30d-denied-crosszone", "", func(e *query.Engine) (string, error) {
			return result(e.TimeSeries(ctx, with(month, `event.cross_zone and event.outcome == "failure"`)))
		}},
		{"topn/7d-domains-blocked", "", func(e *query.Engine) (string, error) {
			return result(e.TopN(ctx, with(week, `url.domain != "" and event.action in ["deny", "block"]`), "url.domain", 10))
		}},
		{"topn/30d-users-offzone", query.UserZonesHourly.Table, func(e *query.Engine) (string, error) {
			return result(e.TopN(ctx, with(month, `source.zone == "lgwan" and destination.zone == "internet"`), "user.name", 20))
		}},
		{"aggregate/30d-bytes-by-zone", query.EventsHourly.Table, func(e *query.Engine) (string, error) {
			q := month
			q.GroupBy = []string{"source.zone"}
			q.Aggs = []query.Agg{{Op: query.Count}, {Op: query.Sum, Field: "source.bytes"}, {Op: query.Sum, Field: "destination.bytes"}}
			return result(e.Aggregate(ctx, q))
		}},
		{"aggregate/30d-by-zone-distinct-users", query.UserZonesHourly.Table, func(e *query.Engine) (string, error) {
			q := month
			q.GroupBy = []string{"source.zone"}
			q.Aggs = []query.Agg{{Op: query.Count}, {Op: query.CountDistinct, Field: "user.name"}, {Op: query.Sum, Field: "source.bytes"}}
			return result(e.Aggregate(ctx, q))
		}},
		{"search/24h-ssh-rdp", "", searched(with(day, `destination.port in [22, 3389] and event.action == "deny"`))},
		{"search/30d-user", "", searched(with(month, `user.name == "o'brien" and inCIDR(source.ip, "10.20.0.0/16")`))},
		{"search/30d-regex-message", "", searched(with(month, `message matches "denied$" and lower(url.domain) endsWith ".example"`))},
	}
	// p returns the q-quantile of sorted latencies in milliseconds.
	p := func(lat []time.Duration, q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	var baseline float64 // p50 of the baseline scan, ms
	b.Run("baseline/full-scan-one-column", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			t := time.Now()
			var s uint64
			if err := conn.QueryRow(ctx, "SELECT sum(bytes_out) FROM "+db+".events").Scan(&s); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		slices.Sort(lat)
		baseline = p(lat, 0.5)
		b.ReportMetric(baseline, "p50-ms")
	})
	var summary []string
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			var lat, rawLat []time.Duration
			for b.Loop() {
				t := time.Now()
				src, err := s.run(served)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
				if s.rollup != "" && src != s.rollup {
					b.Fatalf("%s was answered from %s, want the rollup %s", s.name, src, s.rollup)
				}
				if s.rollup != "" { // the same question to the raw table, interleaved so both see the same load
					t = time.Now()
					if _, err := s.run(raw); err != nil {
						b.Fatal(err)
					}
					rawLat = append(rawLat, time.Since(t))
				}
			}
			slices.Sort(lat)
			p50, p99 := p(lat, 0.5), p(lat, 0.99)
			b.ReportMetric(p50, "p50-ms")
			b.ReportMetric(p99, "p99-ms")
			line := fmt.Sprintf("%-38s p50 %7.1f ms  p99 %7.1f ms  p50/baseline %5.2f", s.name, p50, p99, p50/max(baseline, 0.001))
			if baseline > 0 {
				b.ReportMetric(p50/baseline, "p50/baseline")
			}
			if s.rollup != "" {
				slices.Sort(rawLat)
				rp50 := p(rawLat, 0.5)
				b.ReportMetric(rp50, "raw-p50-ms")
				b.ReportMetric(rp50/p50, "rollup-speedup-x")
				line += fmt.Sprintf("  raw p50 %7.1f ms  rollup speed-up %5.1fx", rp50, rp50/p50)
			}
			summary = append(summary, line+fmt.Sprintf("  (%d runs)", len(lat)))
		})
	}
	fmt.Printf("over %d events, baseline (full scan of one column) p50 %.1f ms; targets p50 <= 300 ms, p99 <= 1000 ms\n%s\n",
		n, baseline, strings.Join(summary, "\n"))
}
