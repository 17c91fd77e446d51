package query_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/internal/testdb"
)

// BenchmarkDashboardQueries measures each dashboard query shape over generated events spread over
// 30 days: 1e6 by default, ZW_BENCH_EVENTS=10000000 for 1e7. It prints p50 and p99 latencies (as
// metrics p50-ms and p99-ms) and asserts nothing about them.
//
//	go test ./query -run '^$' -bench Dashboard -benchtime 30x
func BenchmarkDashboardQueries(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("ZW_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("ZW_BENCH_EVENTS=%q: give a positive number of events", v)
		}
	}
	conn, db := testdb.New(b)
	bt0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	days := 30 * 24 * time.Hour
	start := time.Now()
	r := rand.New(rand.NewPCG(5, 6))
	const chunk = 200_000
	for first := 0; first < n; first += chunk {
		evs := testdb.GenerateFrom(r, first, min(chunk, n-first), bt0, days)
		if err := testdb.Insert(b.Context(), conn, db, evs); err != nil {
			b.Fatal(err)
		}
	}
	if err := conn.Exec(b.Context(), "OPTIMIZE TABLE "+db+".events FINAL"); err != nil {
		b.Logf("optimize: %v", err)
	}
	b.Logf("loaded %d events in %s", n, time.Since(start).Round(time.Millisecond))
	eng, err := query.New(query.Options{Conn: conn, Database: db, Now: func() time.Time { return bt0.Add(days) }})
	if err != nil {
		b.Fatal(err)
	}
	end := bt0.Add(days)
	day := query.Query{From: end.Add(-24 * time.Hour), To: end}
	week := query.Query{From: end.Add(-7 * 24 * time.Hour), To: end}
	month := query.Query{From: bt0, To: end}
	scoped := func(q query.Query) query.Query { q.Scope = query.Scope{Hidden: []string{"mynumber"}}; return q }
	with := func(q query.Query, f string) query.Query { q.Filter = f; return q }
	shapes := []struct {
		name string
		run  func() error
	}{
		{"zonepairs/24h", func() error { _, err := eng.ZonePairs(b.Context(), day); return err }},
		{"zonepairs/30d", func() error { _, err := eng.ZonePairs(b.Context(), month); return err }},
		{"zonepairs/30d-scoped", func() error { _, err := eng.ZonePairs(b.Context(), scoped(month)); return err }},
		{"timeseries/7d-by-action", func() error {
			q := week
			q.GroupBy = []string{"event.action"}
			q.Bucket = time.Hour
			_, err := eng.TimeSeries(b.Context(), q)
			return err
		}},
		{"timeseries/30d-denied-crosszone", func() error {
			q := with(month, `event.cross_zone and event.outcome == "failure"`)
			_, err := eng.TimeSeries(b.Context(), q)
			return err
		}},
		{"topn/7d-domains-blocked", func() error {
			_, err := eng.TopN(b.Context(), with(week, `url.domain != "" and event.action in ["deny", "block"]`), "url.domain", 10)
			return err
		}},
		{"topn/30d-users-offzone", func() error {
			_, err := eng.TopN(b.Context(), with(month, `source.zone == "lgwan" and destination.zone == "internet"`), "user.name", 20)
			return err
		}},
		{"aggregate/30d-by-zone-distinct-users", func() error {
			q := month
			q.GroupBy = []string{"source.zone"}
			q.Aggs = []query.Agg{{Op: query.Count}, {Op: query.CountDistinct, Field: "user.name"}, {Op: query.Sum, Field: "source.bytes"}}
			_, err := eng.Aggregate(b.Context(), q)
			return err
		}},
		{"search/24h-ssh-rdp", func() error {
			_, err := eng.Search(b.Context(), with(day, `destination.port in [22, 3389] and event.action == "deny"`))
			return err
		}},
		{"search/30d-user", func() error {
			_, err := eng.Search(b.Context(), with(month, `user.name == "o'brien" and inCIDR(source.ip, "10.20.0.0/16")`))
			return err
		}},
		{"search/30d-regex-message", func() error {
			_, err := eng.Search(b.Context(), with(month, `message matches "denied$" and lower(url.domain) endsWith ".example"`))
			return err
		}},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t := time.Now()
				if err := s.run(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(p(0.5), "p50-ms")
			b.ReportMetric(p(0.99), "p99-ms")
			b.Logf("%s over %d events: p50 %.1f ms, p99 %.1f ms (%d runs)", s.name, n, p(0.5), p(0.99), len(lat))
		})
	}
}
