package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/internal/testdb"
)

// TestBucketStart pins the alignment of buckets in Go: days at midnight in Japan, weeks on Monday
// there, anything shorter than a day (or not whole days) from the Unix epoch.
func TestBucketStart(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		t    string
		b    time.Duration
		want string
	}{
		{"2026-11-25T16:00:00Z", 24 * time.Hour, "2026-11-25T15:00:00Z"},      // 01:00 JST on the 26th: the 26th
		{"2026-11-25T14:59:59Z", 24 * time.Hour, "2026-11-24T15:00:00Z"},      // 23:59 JST on the 25th: the 25th
		{"2026-11-25T15:00:00Z", 24 * time.Hour, "2026-11-25T15:00:00Z"},      // midnight JST starts its own day
		{"2026-11-25T16:00:00Z", 48 * time.Hour, "2026-11-24T15:00:00Z"},      // 26th JST is day 20783 (odd): from the 25th
		{"2026-11-25T16:00:00Z", 7 * 24 * time.Hour, "2026-11-22T15:00:00Z"},  // Thu 26th JST: week of Mon 23rd
		{"2026-11-22T14:59:00Z", 7 * 24 * time.Hour, "2026-11-15T15:00:00Z"},  // Sun 22nd 23:59 JST: the week before
		{"2026-11-25T16:00:00Z", 14 * 24 * time.Hour, "2026-11-22T15:00:00Z"}, // fortnights from Mon 1970-01-05: 23rd
		{"2026-11-25T16:10:00Z", time.Hour, "2026-11-25T16:00:00Z"},
		{"2026-11-25T16:10:00Z", 6 * time.Hour, "2026-11-25T12:00:00Z"}, // hours stay UTC
		{"2026-11-25T16:10:00Z", 36 * time.Hour, "2026-11-25T12:00:00Z"},
		{"2026-11-25T16:10:00Z", 15 * time.Minute, "2026-11-25T16:00:00Z"},
	} {
		if got := query.BucketStart(at(c.t), c.b); !got.Equal(at(c.want)) || got.Location() != time.UTC {
			t.Errorf("BucketStart(%s, %s) = %s, want %s", c.t, c.b, got, c.want)
		}
	}
}

// TestBucketSQL: ClickHouse's BucketSQL and Go's BucketStart agree, on DateTime64 (events) and
// DateTime (rollups) columns, over a year of times and every bucket length the engine picks.
func TestBucketSQL(t *testing.T) {
	conn, _ := testdb.New(t)
	r := rand.New(rand.NewPCG(7, 7))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var times []time.Time
	for range 200 {
		times = append(times, base.Add(time.Duration(r.Int64N(int64(366*24*time.Hour)))).Truncate(time.Millisecond))
	}
	times = append(times, time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 14, 59, 59, 0, time.UTC))
	for _, b := range []time.Duration{time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 36 * time.Hour,
		24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour} {
		for _, typ := range []string{"DateTime64(3, 'UTC')", "DateTime('UTC')"} {
			for _, ts := range times {
				v := ts.Format("2006-01-02 15:04:05.000")
				var got time.Time
				sql := "SELECT toDateTime(" + query.BucketSQL("t", b) + ", 'UTC') FROM (SELECT CAST({t:String} AS " + typ + ") AS t)"
				if err := conn.QueryRow(t.Context(), sql, ch.Named("t", v)).Scan(&got); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
				if want := query.BucketStart(ts.Truncate(time.Second), b); !got.Equal(want) {
					t.Fatalf("bucket %s of %s (%s): ClickHouse %s, Go %s", b, v, typ, got.UTC(), want)
				}
			}
		}
	}
}

// TestDayBucketsJapan: an event at 16:00 UTC on 25 November (01:00 JST on the 26th) is counted in
// the 26 November bucket, one at 14:59 UTC in the 25th, from the events table and from the rollup.
func TestDayBucketsJapan(t *testing.T) {
	conn, db := testdb.New(t, "0005_rollups", "0009_rollup_scopes")
	evs := testdb.Generate(rand.New(rand.NewPCG(3, 4)), 2, t0, time.Hour)
	evs[0].Timestamp = time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)
	evs[1].Timestamp = time.Date(2026, 11, 25, 14, 59, 0, 0, time.UTC)
	if err := testdb.Insert(t.Context(), conn, db, evs); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC) }
	q := query.Query{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Bucket: 24 * time.Hour}
	for _, sources := range [][]query.Source{nil, query.Rollups()} {
		eng, err := query.New(query.Options{Conn: conn, Database: db, Now: now, Sources: sources})
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.TimeSeries(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]uint64{}
		for _, row := range res.Rows {
			got[row[0].(time.Time).In(time.FixedZone("JST", 9*3600)).Format("2006-01-02")] = row[1].(uint64)
		}
		// 24 Nov 00:00 UTC is 09:00 JST on the 24th: the 24th, 25th, 26th and 27th (JST) each have a bucket.
		want := map[string]uint64{"2026-11-24": 0, "2026-11-25": 1, "2026-11-26": 1, "2026-11-27": 0}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("from %s: day buckets %v, want %v (rows %v)", res.Source, got, want, res.Rows)
		}
	}
}

// TestRollupsMigratedAndScoped: migration 0009 refills the rollups from events stored before it (and
// again when it runs a second time), the views keep them right afterwards, and the scoped zone
// matrix, distinct users and day buckets read from the rollups give exactly the raw table's answer.
func TestRollupsMigratedAndScoped(t *testing.T) {
	conn, db := testdb.New(t, "0005_rollups")
	ctx := t.Context()
	r := rand.New(rand.NewPCG(5, 6))
	if err := testdb.Insert(ctx, conn, db, testdb.GenerateFrom(r, 0, 3000, t0, span)); err != nil {
		t.Fatal(err)
	}
	fsys, err := testdb.Migrations("0005_rollups", "0009_rollup_scopes")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db, FS: fsys}); err != nil {
		t.Fatal(err)
	}
	raw, err := query.New(query.Options{Conn: conn, Database: db, Now: func() time.Time { return t0.Add(span) }})
	if err != nil {
		t.Fatal(err)
	}
	served, err := query.New(query.Options{Conn: conn, Database: db, Now: func() time.Time { return t0.Add(span) }, Sources: query.Rollups()})
	if err != nil {
		t.Fatal(err)
	}
	compareRollups(t, "after the migration", raw, served)
	compareProjections(t, "after the migration", conn, db)

	// A migration that stopped half-way runs again from its first statement: nothing counts twice.
	chtest.RunMigrationAgain(t, conn, db, "0009_rollup_scopes")
	compareRollups(t, "after the migration ran twice", raw, served)
	compareProjections(t, "after the migration ran twice", conn, db)

	// Events stored afterwards reach the rollups through the recreated views.
	if err := testdb.Insert(ctx, conn, db, testdb.GenerateFrom(r, 3000, 2000, t0, span)); err != nil {
		t.Fatal(err)
	}
	compareRollups(t, "after more events", raw, served)
	compareProjections(t, "after more events", conn, db)
}

// compareProjections reads events_hourly's projections (forced, so that a missing one fails) and
// compares them with the same sums over the events table.
func compareProjections(t *testing.T, when string, conn driver.Conn, db string) {
	t.Helper()
	for _, c := range []struct{ projection, keys, where string }{
		{"zone_pairs", "source_zone, destination_zone", "NOT has(['mynumber'], observer_zone)"},
		{"by_type", "source_type, action", "source_zone != 'lgwan'"},
	} {
		q := func(table, sums string) string {
			return "SELECT toString(tuple(" + c.keys + ", " + sums + ")) AS s FROM " + db + "." + table + " WHERE " + c.where +
				" GROUP BY " + c.keys + " ORDER BY s"
		}
		read := func(sql string, args ...any) []string {
			rows, err := conn.Query(context.Background(), sql, args...)
			if err != nil {
				t.Fatalf("%s: %s: %v", when, sql, err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
			}
			return out
		}
		got := read(q("events_hourly", "sum(events), sum(denied), sum(bytes_out), sum(bytes_in)") +
			" SETTINGS force_optimize_projection = 1, force_optimize_projection_name = '" + c.projection + "'")
		want := read(q("events", "count(), countIf(outcome = 'failure'), sum(bytes_out), sum(bytes_in)"))
		if fmt.Sprint(got) != fmt.Sprint(want) || len(want) == 0 {
			t.Errorf("%s: projection %s:\n%v\nevents:\n%v", when, c.projection, got, want)
		}
	}
}

func compareRollups(t *testing.T, when string, raw, served *query.Engine) {
	t.Helper()
	ctx := context.Background()
	hide := func(q query.Query, zones ...string) query.Query { q.Scope = query.Scope{Hidden: zones}; return q }
	byZoneUsers := full(query.Query{GroupBy: []string{"source.zone"}, Limit: 1000,
		Aggs: []query.Agg{{Op: query.Count}, {Op: query.CountDistinct, Field: "user.name"}, {Op: query.Sum, Field: "source.bytes"}}})
	dailyDenied := full(query.Query{GroupBy: []string{"event.module"}, Aggs: []query.Agg{{Op: query.Denied}}, Bucket: 24 * time.Hour})
	type shape struct {
		name, want string // want: the table that should answer from served
		run        func(e *query.Engine) (string, any, error)
	}
	pairs := func(q query.Query) func(e *query.Engine) (string, any, error) {
		return func(e *query.Engine) (string, any, error) {
			m, err := e.ZonePairs(ctx, q)
			if err != nil {
				return "", nil, err
			}
			return m.Source, m.Pairs, nil
		}
	}
	result := func(f func(e *query.Engine) (*query.Result, error)) func(e *query.Engine) (string, any, error) {
		return func(e *query.Engine) (string, any, error) {
			r, err := f(e)
			if err != nil {
				return "", nil, err
			}
			return r.Source, r.Rows, nil
		}
	}
	for _, s := range []shape{
		{"zone matrix", "events_hourly", pairs(full(query.Query{}))},
		{"zone matrix, mynumber hidden", "events_hourly", pairs(hide(full(query.Query{}), "mynumber"))},
		{"zone matrix of denies, mynumber and lgwan hidden", "events_hourly",
			pairs(hide(full(query.Query{Filter: `event.action == "deny"`}), "mynumber", "lgwan"))},
		{"zone matrix by observer zone", "events_hourly", pairs(full(query.Query{Filter: `observer.zone == "internet"`}))},
		{"distinct users by zone", "user_zones_hourly", result(func(e *query.Engine) (*query.Result, error) { return e.Aggregate(ctx, byZoneUsers) })},
		{"distinct users by zone, mynumber hidden", "user_zones_hourly",
			result(func(e *query.Engine) (*query.Result, error) { return e.Aggregate(ctx, hide(byZoneUsers, "mynumber")) })},
		{"top users lgwan to internet, internet hidden", "user_zones_hourly", result(func(e *query.Engine) (*query.Result, error) {
			return e.TopN(ctx, hide(full(query.Query{Filter: `source.zone == "lgwan"`}), "internet"), "user.name", 5)
		})},
		{"distinct destination zones by source zone", "events_hourly", result(func(e *query.Engine) (*query.Result, error) {
			return e.Aggregate(ctx, full(query.Query{GroupBy: []string{"source.zone"}, Aggs: []query.Agg{{Op: query.CountDistinct, Field: "destination.zone"}}}))
		})},
		{"denied per Japanese day by source type, mynumber hidden", "events_hourly",
			result(func(e *query.Engine) (*query.Result, error) { return e.TimeSeries(ctx, hide(dailyDenied, "mynumber")) })},
		{"events per Japanese day", "events_hourly", result(func(e *query.Engine) (*query.Result, error) {
			return e.TimeSeries(ctx, full(query.Query{Bucket: 24 * time.Hour}))
		})},
	} {
		rs, rv, err := s.run(raw)
		if err != nil {
			t.Fatalf("%s: %s from events: %v", when, s.name, err)
		}
		ss, sv, err := s.run(served)
		if err != nil {
			t.Fatalf("%s: %s from the rollups: %v", when, s.name, err)
		}
		if rs != "events" || ss != s.want {
			t.Errorf("%s: %s answered from %s and %s, want events and %s", when, s.name, rs, ss, s.want)
		}
		if a, b := fmt.Sprint(rv), fmt.Sprint(sv); a != b || a == "[]" {
			t.Errorf("%s: %s: the rollup's answer differs from the events table's (or both are empty):\nevents: %s\nrollup: %s", when, s.name, a, b)
		}
	}
}
