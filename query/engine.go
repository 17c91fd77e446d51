package query

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/query/filter"
)

// Options configures an Engine.
type Options struct {
	// Conn is the ClickHouse connection; required.
	Conn driver.Conn
	// Database holds the events table; default "zonewatch".
	Database string
	// Limits bound each query; zero values pick the defaults of Limits.
	Limits Limits
	// Sources are rollups tried, in order, before the events table for aggregate queries.
	Sources []Source
	// Evaluator evaluates filters in Go, for Search with a filter that has residuals; nil refuses
	// such filters with ErrUnpushable.
	Evaluator Evaluator
	// Lists resolves in_list's named lists; nil knows none.
	Lists filter.Lists
	// Macros are the rule files' named conditions, usable in filters by name.
	Macros map[string]string
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Logger receives one debug line per query; default discards.
	Logger *slog.Logger
}

// Evaluator compiles filters to Go predicates over events, with the rule engine's functions.
type Evaluator interface {
	Compile(filter string) (func(*event.Event) (bool, error), error)
}

// Engine runs queries. It is safe for concurrent use.
type Engine struct {
	o Options
	// actMu serialises alert actions: check the status, then append (see ActOnAlert).
	actMu sync.Mutex
}

// New returns an Engine.
func New(o Options) (*Engine, error) {
	if o.Conn == nil {
		return nil, errors.New("query: Options.Conn is nil: give the engine a ClickHouse connection")
	}
	if o.Database == "" {
		o.Database = "zonewatch"
	}
	if !isIdent(o.Database) {
		return nil, fmt.Errorf("query: Options.Database %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", o.Database)
	}
	for _, s := range o.Sources {
		if !isIdent(s.Table) || !isIdent(s.TimeColumn) {
			return nil, fmt.Errorf("query: source %q (time column %q): names must be plain identifiers", s.Table, s.TimeColumn)
		}
	}
	o.Limits = o.Limits.withDefaults()
	o.Limits.Filter.Lists, o.Limits.Filter.Macros = o.Lists, o.Macros
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{o: o}, nil
}

// Limits returns the engine's limits (with defaults applied).
func (e *Engine) Limits() Limits { return e.o.Limits }

// Compile checks a filter the way queries compile it (for the query editor's validation).
func (e *Engine) Compile(src string) (*filter.Compiled, error) {
	f, err := filter.Compile(src, e.o.Limits.Filter)
	if err != nil {
		return nil, wrapFilter(err)
	}
	return f, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func named(name string, v any) any { return clickhouse.Named(name, v) }

func (e *Engine) table(s Source) string { return e.o.Database + "." + s.Table }

// ctx adds the per-query settings: max_execution_time.
func (e *Engine) ctx(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"max_execution_time": int(e.o.Limits.MaxExecutionTime.Seconds()),
	}))
}

// classify turns a driver error into an *Error.
func classify(ctx context.Context, what string, err error) error {
	var ex *clickhouse.Exception
	switch {
	case errors.Is(err, context.DeadlineExceeded), ctx.Err() != nil:
		return &Error{Kind: ErrTimeout, Msg: what + ": the query was cancelled or ran out of time", Err: err}
	case errors.As(err, &ex) && (ex.Code == 159 || ex.Code == 160): // TIMEOUT_EXCEEDED, TOO_SLOW
		return &Error{Kind: ErrTimeout, Msg: what + ": the query ran longer than max_execution_time: narrow the time range or the filter", Err: err}
	case errors.As(err, &ex) && (ex.Code == 158 || ex.Code == 396): // TOO_MANY_ROWS, TOO_MANY_ROWS_OR_BYTES
		return &Error{Kind: ErrTooLarge, Msg: what + ": the result is too large: narrow the query", Err: err}
	}
	return &Error{Kind: ErrInternal, Msg: what + ": ClickHouse failed", Err: err}
}

// prepare normalises q and compiles it.
func (e *Engine) prepare(q Query) (*plan, error) {
	q, err := q.normalise(e.o.Limits, e.o.Now())
	if err != nil {
		return nil, err
	}
	return compile(q, e.o.Limits)
}

// SearchResult is the events a Search found.
type SearchResult struct {
	Events []*event.Event
	// Truncated is set when more events match than the limit (or MaxScanRows were read while
	// evaluating residuals).
	Truncated bool
	// Residuals are the parts of the filter that were evaluated in Go, on the events read.
	Residuals []filter.Residual
	// Scanned is the number of rows read from ClickHouse.
	Scanned int
	// Next, when Truncated, continues the search: pass it as Query.After.
	Next string
}

// cursor is a place in search order: an event's timestamp and id.
type cursor struct {
	t  time.Time
	id string
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.t.UnixMilli(), 10) + ":" + c.id))
}

func parseCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	ms, id, ok := strings.Cut(string(b), ":")
	n, err2 := strconv.ParseInt(ms, 10, 64)
	if err != nil || !ok || err2 != nil {
		return cursor{}, badQuery("after %q is not a cursor of a previous search: pass its next value unchanged", s)
	}
	return cursor{time.UnixMilli(n).UTC(), id}, nil
}

// Search returns the events matching q, newest first (OrderBy "timestamp" ascending reverses it).
// GroupBy, Aggs and Bucket must be empty.
func (e *Engine) Search(ctx context.Context, q Query) (*SearchResult, error) {
	if len(q.GroupBy) > 0 || len(q.Aggs) > 0 || q.Bucket > 0 {
		return nil, badQuery("search returns events: group by, aggregations and buckets belong to aggregate queries")
	}
	var after *cursor
	if q.After != "" {
		c, err := parseCursor(q.After)
		if err != nil {
			return nil, err
		}
		after = &c
	}
	p, err := e.prepare(q)
	if err != nil {
		return nil, err
	}
	order := "DESC"
	for i, o := range p.q.OrderBy {
		if o.By != "timestamp" || i > 0 {
			return nil, badQuery("search orders by timestamp only, not %q", o.By)
		}
		if !o.Desc {
			order = "ASC"
		}
	}
	var pred func(*event.Event) (bool, error)
	limit := p.q.Limit + 1
	if !p.filter.Exact() {
		if e.o.Evaluator == nil {
			return nil, &Error{Kind: ErrUnpushable, Msg: residualMsg(p.filter.Residuals, "this engine has no evaluator for them"), Residuals: p.filter.Residuals}
		}
		if pred, err = e.o.Evaluator.Compile(p.q.Filter); err != nil {
			return nil, &Error{Kind: ErrBadQuery, Msg: "filter: " + err.Error(), Err: err}
		}
		limit = e.o.Limits.MaxScanRows
	}
	where := p.where("timestamp")
	if after != nil {
		op := "<"
		if order == "ASC" {
			op = ">"
		}
		where += " AND (timestamp, id) " + op + " (" + p.addParam("DateTime64(3, 'UTC')", after.t.Format("2006-01-02 15:04:05.000")) + ", " + p.addParam("String", after.id) + ")"
	}
	// Plain ORDER BY … LIMIT lets ClickHouse keep only the top rows while it reads (LIMIT 1 BY to
	// drop unmerged copies of redelivered events made it 3x slower): copies are dropped below.
	sql := "SELECT " + eventColumns + " FROM " + e.table(eventsSource) + " WHERE " + where +
		" ORDER BY timestamp " + order + ", id " + order + fmt.Sprintf(" LIMIT %d", limit)
	start := time.Now()
	rows, err := e.o.Conn.Query(e.ctx(ctx), sql, p.args()...)
	if err != nil {
		return nil, classify(ctx, "search", err)
	}
	defer rows.Close()
	res := &SearchResult{Residuals: p.filter.Residuals, Events: []*event.Event{}}
	lastID := ""
	var lastScanned *event.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, classify(ctx, "search", err)
		}
		res.Scanned++
		// Copies of a redelivered event that ReplacingMergeTree has not merged yet are adjacent
		// (same timestamp and id): keep one.
		if ev.ID == lastID {
			continue
		}
		lastID = ev.ID
		lastScanned = ev
		if pred != nil {
			ok, err := pred(ev)
			if err != nil {
				return nil, &Error{Kind: ErrBadQuery, Msg: "filter failed on event " + ev.ID, Err: err}
			}
			if !ok {
				continue
			}
		}
		if len(res.Events) == p.q.Limit {
			res.Truncated = true
			break
		}
		res.Events = append(res.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "search", err)
	}
	if res.Scanned >= limit { // the LIMIT was reached: there may be more (copies count too)
		res.Truncated = true
	}
	switch {
	case !res.Truncated:
	case len(res.Events) == p.q.Limit: // a full page: continue after its last event
		last := res.Events[len(res.Events)-1]
		res.Next = cursor{last.Timestamp, last.ID}.String()
	case lastScanned != nil: // the scan limit: continue after the last row read
		res.Next = cursor{lastScanned.Timestamp, lastScanned.ID}.String()
	}
	e.o.Logger.Debug("search", "rows", len(res.Events), "scanned", res.Scanned, "took", time.Since(start))
	return res, nil
}

func residualMsg(rs []filter.Residual, why string) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s (%s: %s)", r.Expr, r.Pos, r.Reason))
	}
	return "the filter has parts that cannot run in ClickHouse, and " + why + ": " + strings.Join(parts, "; ")
}

// Column is one column of a Result.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"` // ClickHouse type
}

// Result is a table of aggregated rows.
type Result struct {
	Columns   []Column `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	// Source is the table that answered (events, or a rollup).
	Source string `json:"source"`
}

// Aggregate groups the events matching q by q.GroupBy (and q.Bucket) and computes q.Aggs. The
// filter must be exact: residuals are refused with ErrUnpushable.
func (e *Engine) Aggregate(ctx context.Context, q Query) (*Result, error) {
	if q.After != "" {
		return nil, badQuery("after pages through search results only")
	}
	p, err := e.prepare(q)
	if err != nil {
		return nil, err
	}
	if !p.filter.Exact() {
		return nil, &Error{Kind: ErrUnpushable, Msg: residualMsg(p.filter.Residuals, "aggregations run in ClickHouse only: rewrite them with pushable conditions"), Residuals: p.filter.Residuals}
	}
	return e.aggregate(ctx, p)
}

func (e *Engine) aggregate(ctx context.Context, p *plan) (*Result, error) {
	src := e.chooseSource(p)
	var sel []string
	var groups []string
	for i, k := range p.keys {
		s := k.sql
		if k.name == "bucket" {
			s = BucketSQL(src.TimeColumn, p.bucket)
		}
		sel = append(sel, fmt.Sprintf("%s AS c%d", s, i))
		groups = append(groups, fmt.Sprintf("c%d", i))
	}
	for i, a := range p.aggs {
		sel = append(sel, fmt.Sprintf("%s AS c%d", src.aggSQL(a.sql), len(p.keys)+i))
	}
	order, err := p.orderBy()
	if err != nil {
		return nil, err
	}
	sql := "SELECT " + strings.Join(sel, ", ") + " FROM " + e.table(src) + " WHERE " + p.where(src.TimeColumn)
	if len(groups) > 0 {
		sql += " GROUP BY " + strings.Join(groups, ", ")
	}
	sql += " ORDER BY " + order + fmt.Sprintf(" LIMIT %d", p.q.Limit+1)
	start := time.Now()
	rows, err := e.o.Conn.Query(e.ctx(ctx), sql, p.args()...)
	if err != nil {
		return nil, classify(ctx, "aggregate", err)
	}
	defer rows.Close()
	res := &Result{Source: src.Table, Rows: [][]any{}}
	names := make([]string, 0, len(p.keys)+len(p.aggs))
	for _, c := range append(slices.Clone(p.keys), p.aggs...) {
		names = append(names, c.name)
	}
	for i, ct := range rows.ColumnTypes() {
		res.Columns = append(res.Columns, Column{Name: names[i], Type: ct.DatabaseTypeName()})
	}
	for rows.Next() {
		if len(res.Rows) == p.q.Limit {
			res.Truncated = true
			break
		}
		row, err := scanRow(rows)
		if err != nil {
			return nil, classify(ctx, "aggregate", err)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "aggregate", err)
	}
	e.o.Logger.Debug("aggregate", "source", src.Table, "rows", len(res.Rows), "took", time.Since(start))
	return res, nil
}

// TimeSeries is Aggregate with a time bucket: when q.Bucket is zero it picks one giving at most
// about 200 points, rounded to a whole minute, hour or day. Without GroupBy and OrderBy, and with
// additive aggregations only (count, denied, sum, count_distinct), empty buckets are filled with
// zeros, so that a graph shows silence as zero rather than as a line across the gap.
func (e *Engine) TimeSeries(ctx context.Context, q Query) (*Result, error) {
	nq, err := q.normalise(e.o.Limits, e.o.Now())
	if err != nil {
		return nil, err
	}
	q.From, q.To = nq.From, nq.To
	if q.Bucket == 0 {
		q.Bucket = autoBucket(q.To.Sub(q.From))
	}
	if q.Limit == 0 {
		n := int(q.To.Sub(q.From)/q.Bucket+1) * max(1, len(q.GroupBy)*10)
		q.Limit = min(n, e.o.Limits.MaxRows)
	}
	res, err := e.Aggregate(ctx, q)
	if err != nil || len(q.GroupBy) > 0 || len(q.OrderBy) > 0 || res.Truncated {
		return res, err
	}
	for _, a := range q.Aggs {
		if a.Op != Count && a.Op != Denied && a.Op != Sum && a.Op != CountDistinct {
			return res, nil
		}
	}
	return fillBuckets(res, q), nil
}

// fillBuckets adds a row of zeros for each bucket of [From, To) without one, aligned as BucketSQL
// aligns them (BucketStart).
func fillBuckets(res *Result, q Query) *Result {
	b := int64(q.Bucket / time.Second)
	have := map[int64][]any{}
	for _, row := range res.Rows {
		if t, ok := row[0].(time.Time); ok {
			have[t.Unix()] = row
		}
	}
	var rows [][]any
	for s := BucketStart(q.From, q.Bucket).Unix(); s < q.To.Unix(); s += b {
		if row, ok := have[s]; ok {
			rows = append(rows, row)
			continue
		}
		row := []any{time.Unix(s, 0).UTC()}
		for range res.Columns[1:] {
			row = append(row, uint64(0))
		}
		rows = append(rows, row)
	}
	if len(rows) < len(res.Rows) { // a bucket outside the range: leave the result as it is
		return res
	}
	res.Rows = rows
	return res
}

func autoBucket(d time.Duration) time.Duration {
	for _, b := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		if d/b <= 200 {
			return b
		}
	}
	return 30 * 24 * time.Hour
}

// TopN returns the n most frequent values of field among the events matching q, with counts
// (and q.Aggs, when given, computed per value).
func (e *Engine) TopN(ctx context.Context, q Query, field string, n int) (*Result, error) {
	if field == "" {
		return nil, badQuery("top n needs a field")
	}
	if n <= 0 {
		n = 10
	}
	q.GroupBy = []string{field}
	aggs := []Agg{{Op: Count}}
	for _, a := range q.Aggs {
		if a.Op != Count || a.Field != "" || a.As != "" {
			aggs = append(aggs, a)
		}
	}
	q.Aggs = aggs
	q.OrderBy = []Order{{By: "count", Desc: true}}
	q.Limit = n
	q.Bucket = 0
	return e.Aggregate(ctx, q)
}

// ZonePair is one cell of a zone matrix.
type ZonePair struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Events      uint64 `json:"events"`
	// Denied counts events whose outcome is failure (firewall denies, proxy blocks, failed logins).
	Denied uint64 `json:"denied"`
}

// ZoneMatrix is traffic between zones.
type ZoneMatrix struct {
	Zones     []string   `json:"zones"` // every zone that appears, sorted
	Pairs     []ZonePair `json:"pairs"`
	Truncated bool       `json:"truncated"`
	Source    string     `json:"source"`
}

// ZonePairs counts the events matching q, and the denied ones, per source zone × destination zone.
func (e *Engine) ZonePairs(ctx context.Context, q Query) (*ZoneMatrix, error) {
	q.GroupBy = []string{"source.zone", "destination.zone"}
	q.Aggs = []Agg{{Op: Count, As: "events"}, {Op: Denied}}
	q.Bucket = 0
	q.OrderBy = []Order{{By: "source.zone"}, {By: "destination.zone"}}
	r, err := e.Aggregate(ctx, q)
	if err != nil {
		return nil, err
	}
	m := &ZoneMatrix{Pairs: []ZonePair{}, Zones: []string{}, Truncated: r.Truncated, Source: r.Source}
	for _, row := range r.Rows {
		zp := ZonePair{Source: row[0].(string), Destination: row[1].(string), Events: toUint(row[2]), Denied: toUint(row[3])}
		m.Pairs = append(m.Pairs, zp)
		m.Zones = append(m.Zones, zp.Source, zp.Destination)
	}
	slices.Sort(m.Zones)
	m.Zones = slices.Compact(m.Zones)
	return m, nil
}

func toUint(v any) uint64 {
	switch x := v.(type) {
	case uint64:
		return x
	case int64:
		return uint64(x)
	}
	return 0
}

// OffHoursFunc decides whether the moment t is off-hours for key (a user name, a host …), e.g. with
// internal/calendar's per-group calendars.
type OffHoursFunc func(key string, t time.Time) (bool, error)

// OffHoursRow summarises one key.
type OffHoursRow struct {
	Key      string `json:"key"`
	Events   uint64 `json:"events"`
	OffHours uint64 `json:"off_hours"`
}

// OffHours counts, per value of the field by (default user.name), the events matching q and those
// at off-hours by isOff. ClickHouse counts events per key and quarter hour (every duty calendar
// boundary falls on a quarter hour); isOff is asked once per key and quarter hour, at its start.
func (e *Engine) OffHours(ctx context.Context, q Query, by string, isOff OffHoursFunc) ([]OffHoursRow, error) {
	if isOff == nil {
		return nil, badQuery("off-hours needs a calendar function")
	}
	if by == "" {
		by = "user.name"
	}
	q.GroupBy = []string{by}
	q.Aggs = []Agg{{Op: Count}}
	q.Bucket = 15 * time.Minute
	q.OrderBy = nil
	q.Limit = 1
	p, err := e.prepare(q)
	if err != nil {
		return nil, err
	}
	p.q.Limit = e.o.Limits.MaxScanRows // cells, summed below into one row per key
	if !p.filter.Exact() {
		return nil, &Error{Kind: ErrUnpushable, Msg: residualMsg(p.filter.Residuals, "off-hours summaries run in ClickHouse only"), Residuals: p.filter.Residuals}
	}
	r, err := e.aggregate(ctx, p)
	if err != nil {
		return nil, err
	}
	if r.Truncated {
		return nil, tooLarge("off-hours: more than %d key × quarter-hour cells: narrow the range or the filter", e.o.Limits.MaxScanRows)
	}
	sums := map[string]*OffHoursRow{}
	var keys []string
	for _, row := range r.Rows {
		t, _ := row[0].(time.Time)
		key := fmt.Sprint(row[1])
		n := toUint(row[2])
		s, ok := sums[key]
		if !ok {
			s = &OffHoursRow{Key: key}
			sums[key] = s
			keys = append(keys, key)
		}
		s.Events += n
		off, err := isOff(key, t)
		if err != nil {
			return nil, &Error{Kind: ErrBadQuery, Msg: "off-hours: calendar for " + key, Err: err}
		}
		if off {
			s.OffHours += n
		}
	}
	out := make([]OffHoursRow, 0, len(keys))
	for _, k := range keys {
		out = append(out, *sums[k])
	}
	slices.SortFunc(out, func(a, b OffHoursRow) int {
		if a.OffHours != b.OffHours {
			return int(int64(b.OffHours) - int64(a.OffHours))
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}

// Ping checks that ClickHouse answers.
func (e *Engine) Ping(ctx context.Context) error { return e.o.Conn.Ping(ctx) }
