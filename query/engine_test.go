package query_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/expr-lang/expr"

	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/internal/testdb"
)

var (
	t0   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	span = 72 * time.Hour
)

type fixture struct {
	conn   driver.Conn
	db     string
	events []*event.Event
	eng    *query.Engine
}

func newFixture(t *testing.T, n int, opts query.Options) *fixture {
	t.Helper()
	conn, db := testdb.New(t)
	evs := testdb.Generate(rand.New(rand.NewPCG(1, 2)), n, t0, span)
	if err := testdb.Insert(t.Context(), conn, db, evs); err != nil {
		t.Fatal(err)
	}
	opts.Conn, opts.Database = conn, db
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0.Add(span) }
	}
	eng, err := query.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{conn: conn, db: db, events: evs, eng: eng}
}

func full(q query.Query) query.Query {
	q.From, q.To = t0, t0.Add(span)
	return q
}

func TestSearch(t *testing.T) {
	f := newFixture(t, 3000, query.Options{})
	byID := map[string]*event.Event{}
	for _, e := range f.events {
		byID[e.ID] = e
	}
	res, err := f.eng.Search(t.Context(), full(query.Query{Filter: `event.action == "deny" and destination.port in [22, 3389]`, Limit: 20}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 20 || !res.Truncated {
		t.Fatalf("got %d events (truncated %v), want 20 and truncated", len(res.Events), res.Truncated)
	}
	for i, e := range res.Events {
		want := byID[e.ID]
		if e.Meta.Action != "deny" || (e.Destination.Port != 22 && e.Destination.Port != 3389) {
			t.Errorf("event %s does not match the filter: %+v", e.ID, e)
		}
		if i > 0 && e.Timestamp.After(res.Events[i-1].Timestamp) {
			t.Errorf("events not newest first at %d", i)
		}
		// Every field survives the round trip through ClickHouse.
		if fmt.Sprintf("%+v", *e) != fmt.Sprintf("%+v", *want) {
			t.Errorf("event %s read back as\n%+v\nwant\n%+v", e.ID, *e, *want)
		}
	}
	asc, err := f.eng.Search(t.Context(), full(query.Query{Limit: 5, OrderBy: []query.Order{{By: "timestamp"}}}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(asc.Events); i++ {
		if asc.Events[i].Timestamp.Before(asc.Events[i-1].Timestamp) {
			t.Errorf("ascending order broken at %d", i)
		}
	}
}

// count returns how many events pass pred (and the scope's hidden zones).
func count(evs []*event.Event, hidden []string, pred func(*event.Event) bool) map[string]uint64 {
	out := map[string]uint64{}
	for _, e := range evs {
		if slices.Contains(hidden, e.Source.Zone) || slices.Contains(hidden, e.Destination.Zone) || slices.Contains(hidden, e.Observer.Zone) {
			continue
		}
		if pred(e) {
			out[e.Source.Zone+"→"+e.Destination.Zone]++
		}
	}
	return out
}

func TestAggregateZonePairsAndScope(t *testing.T) {
	f := newFixture(t, 3000, query.Options{})
	for _, hidden := range [][]string{nil, {"mynumber"}, {"mynumber", "lgwan"}} {
		q := full(query.Query{Filter: `not (user.name startsWith "adm")`, Scope: query.Scope{Hidden: hidden}})
		m, err := f.eng.ZonePairs(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		want := count(f.events, hidden, func(e *event.Event) bool { return len(e.User.Name) < 3 || e.User.Name[:3] != "adm" })
		denied := count(f.events, hidden, func(e *event.Event) bool {
			return (len(e.User.Name) < 3 || e.User.Name[:3] != "adm") && e.Meta.Outcome == "failure"
		})
		got := map[string]uint64{}
		for _, p := range m.Pairs {
			got[p.Source+"→"+p.Destination] = p.Events
			if p.Denied != denied[p.Source+"→"+p.Destination] {
				t.Errorf("hidden %v: %s→%s denied %d, want %d", hidden, p.Source, p.Destination, p.Denied, denied[p.Source+"→"+p.Destination])
			}
			for _, h := range hidden {
				if p.Source == h || p.Destination == h {
					t.Errorf("hidden %v: the matrix shows %s→%s", hidden, p.Source, p.Destination)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("hidden %v: zone pairs\n%v\nwant\n%v", hidden, got, want)
		}
		// Search never returns an event of a hidden zone.
		res, err := f.eng.Search(t.Context(), full(query.Query{Limit: 3000, Scope: query.Scope{Hidden: hidden}}))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Events {
			if slices.Contains(hidden, e.Source.Zone) || slices.Contains(hidden, e.Destination.Zone) || slices.Contains(hidden, e.Observer.Zone) {
				t.Errorf("hidden %v: search returned %s (%s→%s, observer %s)", hidden, e.ID, e.Source.Zone, e.Destination.Zone, e.Observer.Zone)
			}
		}
	}
}

func TestAggregateTopNTimeSeries(t *testing.T) {
	f := newFixture(t, 3000, query.Options{})
	ctx := t.Context()
	r, err := f.eng.Aggregate(ctx, full(query.Query{
		GroupBy: []string{"event.module"},
		Aggs:    []query.Agg{{Op: query.Count}, {Op: query.Sum, Field: "source.bytes"}, {Op: query.CountDistinct, Field: "user.name"}, {Op: query.Max, Field: "destination.port"}},
		OrderBy: []query.Order{{By: "event.module"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	type agg struct {
		n, bytes uint64
		users    map[string]bool
		maxPort  uint16
	}
	want := map[string]*agg{}
	for _, e := range f.events {
		a := want[e.Meta.Module]
		if a == nil {
			a = &agg{users: map[string]bool{}}
			want[e.Meta.Module] = a
		}
		a.n++
		a.bytes += e.Source.Bytes
		a.users[e.User.Name] = true
		a.maxPort = max(a.maxPort, e.Destination.Port)
	}
	if len(r.Rows) != len(want) {
		t.Fatalf("%d groups, want %d", len(r.Rows), len(want))
	}
	names := []string{}
	for _, c := range r.Columns {
		names = append(names, c.Name)
	}
	if fmt.Sprint(names) != "[event.module count sum(source.bytes) count_distinct(user.name) max(destination.port)]" {
		t.Errorf("columns %v", names)
	}
	for _, row := range r.Rows {
		w := want[row[0].(string)]
		got := fmt.Sprint(row[1:])
		exp := fmt.Sprint([]any{w.n, w.bytes, uint64(len(w.users)), w.maxPort})
		if got != exp {
			t.Errorf("%s: %s, want %s", row[0], got, exp)
		}
	}

	top, err := f.eng.TopN(ctx, full(query.Query{Filter: `url.domain != ""`}), "url.domain", 3)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, e := range f.events {
		if e.URL.Domain != "" {
			counts[e.URL.Domain]++
		}
	}
	if len(top.Rows) != 3 {
		t.Fatalf("top 3: %d rows", len(top.Rows))
	}
	for i, row := range top.Rows {
		if counts[row[0].(string)] != row[1].(uint64) {
			t.Errorf("top %d: %v, want count %d", i, row, counts[row[0].(string)])
		}
		if i > 0 && row[1].(uint64) > top.Rows[i-1][1].(uint64) {
			t.Errorf("top not in descending order: %v", top.Rows)
		}
	}

	ts, err := f.eng.TimeSeries(ctx, full(query.Query{Bucket: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for i, row := range ts.Rows {
		b := row[0].(time.Time)
		if !b.Truncate(time.Hour).Equal(b) || (i > 0 && !b.After(ts.Rows[i-1][0].(time.Time))) {
			t.Errorf("bucket %d = %v", i, b)
		}
		total += row[1].(uint64)
	}
	if total != uint64(len(f.events)) || len(ts.Rows) != 72 {
		t.Errorf("time series: %d buckets, %d events; want 72 buckets, %d events", len(ts.Rows), total, len(f.events))
	}
	auto, err := f.eng.TimeSeries(ctx, full(query.Query{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(auto.Rows) == 0 || len(auto.Rows) > 201 {
		t.Errorf("auto bucket gave %d points", len(auto.Rows))
	}
}

func TestLimitsAndErrors(t *testing.T) {
	f := newFixture(t, 10, query.Options{Limits: query.Limits{MaxRange: 30 * 24 * time.Hour, MaxRows: 50, MaxBuckets: 100}})
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		run  func() error
		kind query.ErrorKind
	}{
		{"range too long", func() error {
			_, err := f.eng.Search(ctx, query.Query{From: t0.Add(-60 * 24 * time.Hour), To: t0})
			return err
		}, query.ErrTooLarge},
		{"empty range", func() error { _, err := f.eng.Search(ctx, query.Query{From: t0, To: t0}); return err }, query.ErrBadQuery},
		{"too many rows", func() error { _, err := f.eng.Search(ctx, full(query.Query{Limit: 51})); return err }, query.ErrTooLarge},
		{"too many buckets", func() error {
			_, err := f.eng.TimeSeries(ctx, full(query.Query{Bucket: time.Minute}))
			return err
		}, query.ErrTooLarge},
		{"bad filter", func() error { _, err := f.eng.Search(ctx, full(query.Query{Filter: `source.zon == "x"`})); return err }, query.ErrBadQuery},
		{"unknown group", func() error {
			_, err := f.eng.Aggregate(ctx, full(query.Query{GroupBy: []string{"source.zon"}}))
			return err
		}, query.ErrBadQuery},
		{"sum of a string", func() error {
			_, err := f.eng.Aggregate(ctx, full(query.Query{Aggs: []query.Agg{{Op: query.Sum, Field: "user.name"}}}))
			return err
		}, query.ErrBadQuery},
		{"order by unknown", func() error {
			_, err := f.eng.Aggregate(ctx, full(query.Query{OrderBy: []query.Order{{By: "nope"}}}))
			return err
		}, query.ErrBadQuery},
		{"residual in aggregate", func() error {
			_, err := f.eng.Aggregate(ctx, full(query.Query{Filter: `offHours("office", timestamp)`}))
			return err
		}, query.ErrUnpushable},
		{"residual in search without evaluator", func() error {
			_, err := f.eng.Search(ctx, full(query.Query{Filter: `entropy(url.domain) > 3`}))
			return err
		}, query.ErrUnpushable},
		{"timeout", func() error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			_, err := f.eng.Search(c, full(query.Query{}))
			return err
		}, query.ErrTimeout},
	} {
		err := tc.run()
		var qe *query.Error
		if !errors.As(err, &qe) || qe.Kind != tc.kind {
			t.Errorf("%s: error %v, want kind %s", tc.name, err, tc.kind)
		}
	}
}

// TestSearchResidual evaluates the unpushable part of a filter in Go, on the superset ClickHouse
// returns.
func TestSearchResidual(t *testing.T) {
	off := expr.Function("offHours", func(p ...any) (any, error) {
		h := p[1].(time.Time).Hour()
		return h < 9 || h >= 17, nil
	}, new(func(string, time.Time) bool))
	f := newFixture(t, 2000, query.Options{Evaluator: query.ExprEvaluator{Options: []expr.Option{off}}})
	res, err := f.eng.Search(t.Context(), full(query.Query{Filter: `source.zone == "lgwan" and offHours("office", timestamp)`, Limit: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	var want int
	for _, e := range f.events {
		if h := e.Timestamp.Hour(); e.Source.Zone == "lgwan" && (h < 9 || h >= 17) {
			want++
		}
	}
	if len(res.Events) != want || len(res.Residuals) != 1 || res.Scanned <= want {
		t.Errorf("got %d events (scanned %d, residuals %v), want %d", len(res.Events), res.Scanned, res.Residuals, want)
	}
}

func TestOffHours(t *testing.T) {
	f := newFixture(t, 2000, query.Options{})
	isOff := func(user string, t time.Time) (bool, error) {
		if user == "sato" {
			return false, nil // on shifts around the clock
		}
		return t.Hour() < 9 || t.Hour() >= 17, nil
	}
	rows, err := f.eng.OffHours(t.Context(), full(query.Query{Filter: `user.name != ""`}), "user.name", isOff)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]uint64{}
	for _, e := range f.events {
		if e.User.Name == "" {
			continue
		}
		w := want[e.User.Name]
		w[0]++
		if off, _ := isOff(e.User.Name, e.Timestamp); off {
			w[1]++
		}
		want[e.User.Name] = w
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if w := want[r.Key]; w[0] != r.Events || w[1] != r.OffHours {
			t.Errorf("%s: %d events, %d off-hours; want %v", r.Key, r.Events, r.OffHours, w)
		}
	}
}

// TestRollupSource checks that an aggregate the rollup covers is read from it, with the same answer.
func TestRollupSource(t *testing.T) {
	f := newFixture(t, 3000, query.Options{})
	ctx := t.Context()
	for _, s := range []string{
		"CREATE TABLE " + f.db + ".zone_hourly (hour DateTime('UTC'), source_zone LowCardinality(String), destination_zone LowCardinality(String), " +
			"observer_zone LowCardinality(String), action LowCardinality(String), source_type LowCardinality(String), events UInt64, denied UInt64, bytes_out UInt64, bytes_in UInt64) " +
			"ENGINE = SummingMergeTree ORDER BY (hour, source_zone, destination_zone, source_type, action)",
		"INSERT INTO " + f.db + ".zone_hourly SELECT toStartOfHour(timestamp), source_zone, destination_zone, observer_zone, action, source_type, count(), " +
			"countIf(outcome = 'failure'), sum(bytes_out), sum(bytes_in) FROM " + f.db + ".events GROUP BY ALL",
	} {
		if err := f.conn.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	rollup := query.EventsHourly
	rollup.Table = "zone_hourly"
	eng, err := query.New(query.Options{Conn: f.conn, Database: f.db, Sources: []query.Source{rollup}})
	if err != nil {
		t.Fatal(err)
	}
	q := full(query.Query{Filter: `event.action in ["deny", "block"]`, Bucket: 6 * time.Hour, GroupBy: []string{"source.zone"},
		Aggs: []query.Agg{{Op: query.Count}, {Op: query.Sum, Field: "source.bytes"}}, Limit: 1000})
	a, err := f.eng.Aggregate(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := eng.Aggregate(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if a.Source != "events" || b.Source != "zone_hourly" {
		t.Errorf("sources %s and %s, want events and zone_hourly", a.Source, b.Source)
	}
	if fmt.Sprint(a.Rows) != fmt.Sprint(b.Rows) {
		t.Errorf("rollup answer differs:\n%v\n%v", a.Rows, b.Rows)
	}
	// Not covered: fields the rollup lacks, an unaligned range. (A scope is covered: the rollup
	// keeps observer_zone; rollup_test.go compares scoped answers.)
	for _, q2 := range []query.Query{
		full(query.Query{Filter: `user.name == "sato"`}),
		full(query.Query{Filter: `observer.hostname == "fw1"`, Scope: query.Scope{Hidden: []string{"mynumber"}}}),
		{From: t0.Add(time.Minute), To: t0.Add(time.Hour)},
	} {
		r, err := eng.Aggregate(ctx, q2)
		if err != nil {
			t.Fatal(err)
		}
		if r.Source != "events" {
			t.Errorf("%+v read from %s, want events", q2, r.Source)
		}
	}
}

// TestSearchDuplicates: a redelivered event stored twice (not yet merged) is returned once.
func TestSearchDuplicates(t *testing.T) {
	f := newFixture(t, 50, query.Options{})
	if err := testdb.Insert(t.Context(), f.conn, f.db, f.events[:10]); err != nil {
		t.Fatal(err)
	}
	res, err := f.eng.Search(t.Context(), full(query.Query{Limit: 100}))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range res.Events {
		if seen[e.ID] {
			t.Errorf("event %s returned twice", e.ID)
		}
		seen[e.ID] = true
	}
	if len(res.Events) != 50 || res.Truncated {
		t.Errorf("%d events (truncated %v), want 50", len(res.Events), res.Truncated)
	}
}

// TestSearchPages pages through every matching event with After and Next, each once, in order.
func TestSearchPages(t *testing.T) {
	f := newFixture(t, 1000, query.Options{})
	flt := `event.outcome == "failure"`
	want := 0
	for _, e := range f.events {
		if e.Meta.Outcome == "failure" {
			want++
		}
	}
	for _, asc := range []bool{false, true} {
		seen := map[string]bool{}
		var prev *event.Event
		q := full(query.Query{Filter: flt, Limit: 37, OrderBy: []query.Order{{By: "timestamp", Desc: !asc}}})
		for page := 0; ; page++ {
			res, err := f.eng.Search(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range res.Events {
				if seen[e.ID] {
					t.Fatalf("page %d: %s again", page, e.ID)
				}
				seen[e.ID] = true
				if prev != nil && (asc && e.Timestamp.Before(prev.Timestamp) || !asc && e.Timestamp.After(prev.Timestamp)) {
					t.Fatalf("page %d: %s out of order", page, e.ID)
				}
				prev = e
			}
			if res.Next == "" {
				break
			}
			q.After = res.Next
		}
		if len(seen) != want {
			t.Errorf("asc %v: paged through %d events, want %d", asc, len(seen), want)
		}
	}
	if _, err := f.eng.Search(t.Context(), full(query.Query{After: "bm90IGEgY3Vyc29y!"})); query.KindOf(err) != query.ErrBadQuery {
		t.Errorf("bad cursor: %v", err)
	}
}

// TestTimeSeriesFillsGaps: buckets without events are zeros, so graphs show silence.
func TestTimeSeriesFillsGaps(t *testing.T) {
	f := newFixture(t, 500, query.Options{})
	// Events exist only in [t0, t0+72h); ask for a day more on either side.
	r, err := f.eng.TimeSeries(t.Context(), query.Query{From: t0.Add(-24 * time.Hour), To: t0.Add(span + 24*time.Hour), Bucket: 6 * time.Hour,
		Aggs: []query.Agg{{Op: query.Count}, {Op: query.Sum, Field: "source.bytes"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 20 {
		t.Fatalf("%d buckets, want 20", len(r.Rows))
	}
	var total uint64
	for i, row := range r.Rows {
		b := row[0].(time.Time)
		if want := t0.Add(-24*time.Hour + time.Duration(i)*6*time.Hour); !b.Equal(want) {
			t.Errorf("bucket %d = %v, want %v", i, b, want)
		}
		n := row[1].(uint64)
		if (i < 4 || i >= 16) && n != 0 {
			t.Errorf("bucket %v outside the data has %d events", b, n)
		}
		total += n
	}
	if total != 500 {
		t.Errorf("%d events in the series, want 500", total)
	}
}

// TestOffHoursCalendars checks the quarter-hour summary against each event's own off-hours
// decision by internal/calendar (office hours end on quarter hours, in Asia/Tokyo).
func TestOffHoursCalendars(t *testing.T) {
	f := newFixture(t, 3000, query.Options{})
	set, err := calendar.NewSet(map[string]calendar.CalendarSpec{
		"office": {Kind: calendar.KindOffice, Start: "08:45", End: "17:30", Lunch: "12:00-13:00"},
		"always": {Kind: calendar.KindAlways},
	}, calendar.DefaultHolidays())
	if err != nil {
		t.Fatal(err)
	}
	groupOf := func(user string) string {
		switch user {
		case "":
			return ""
		case "sato":
			return "always"
		}
		return "office"
	}
	rows, err := f.eng.OffHours(t.Context(), full(query.Query{}), "user.name", query.CalendarOffHours(set, groupOf))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]uint64{}
	for _, e := range f.events {
		w := want[e.User.Name]
		w[0]++
		if cal, ok := set.Get(groupOf(e.User.Name)); ok && cal.OffHours(e.Timestamp) {
			w[1]++
		}
		want[e.User.Name] = w
	}
	for _, r := range rows {
		if w := want[r.Key]; w != [2]uint64{r.Events, r.OffHours} {
			t.Errorf("%q: %d events, %d off-hours; want %v", r.Key, r.Events, r.OffHours, w)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("%d keys, want %d", len(rows), len(want))
	}
	_, err = f.eng.OffHours(t.Context(), full(query.Query{}), "user.name", query.CalendarOffHours(set, func(string) string { return "night" }))
	if err == nil || !strings.Contains(err.Error(), `calendar "night"`) {
		t.Errorf("unknown calendar: %v", err)
	}
}
