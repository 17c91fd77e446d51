package backtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/filter"
	"github.com/zonewatch/zonewatch/query/fromrules"
	"github.com/zonewatch/zonewatch/rules"
)

// StoredOptions say where the stored events are.
type StoredOptions struct {
	// Conn is the ClickHouse connection; required.
	Conn driver.Conn
	// Database holds the events table; default "zonewatch".
	Database string
	// PageSize is the number of rows read per query; default 50 000. Rows stream page by page, in
	// (timestamp, id) order, each page continuing after the last row of the one before.
	PageSize int
	// MaxExecutionTime bounds each page's query in ClickHouse; default 5m.
	MaxExecutionTime time.Duration
	// Chunk is the span of time one run of pages covers; default 24h. Each page's query sorts what is
	// left of its chunk, so a chunk bounds the work ClickHouse repeats per page.
	Chunk time.Duration
}

// PushDown returns a filter that selects at least every event that any enabled rule of rs may match:
// the rules' conditions joined by "or", in the rule language (lists and macros by name). Exceptions,
// windows and suppression are left to the engine, which evaluates every row read. Parts of a condition
// ClickHouse cannot evaluate (offHours, lookup …) count as true there, so the filter is a superset. A
// condition the filter compiler refuses, or one that narrows nothing, makes the whole filter "" (every
// event); the note then says which rule and why.
func PushDown(rs *rules.RuleSet) (string, []string) {
	fo := filterOptions(rs)
	var parts []string
	for _, r := range rs.Rules {
		if !r.Enabled {
			continue
		}
		c, err := filter.Compile(r.Condition, fo)
		if err != nil {
			return "", []string{fmt.Sprintf("%s: its condition cannot be pushed down to ClickHouse (%v): every event is read", r.ID, err)}
		}
		if c.Where == "true" {
			return "", []string{fmt.Sprintf("%s: its condition narrows nothing in ClickHouse: every event is read", r.ID)}
		}
		parts = append(parts, "("+r.Condition+")")
	}
	if len(parts) == 0 {
		return "false", nil
	}
	return strings.Join(parts, "\nor "), nil
}

func filterOptions(rs *rules.RuleSet) filter.Options {
	return filter.Options{Lists: fromrules.Lists(rs), Macros: fromrules.Macros(rs),
		MaxLength: 1 << 20, MaxDepth: 256, MaxParams: 1 << 16}
}

// Stored reads the events of the backtest's period from ClickHouse through the query engine, narrowed
// by PushDown, in timestamp order, evaluates each with bt, and returns bt's report.
func Stored(ctx context.Context, bt *Backtest, o StoredOptions) (*Report, error) {
	if o.PageSize <= 0 {
		o.PageSize = 50_000
	}
	if o.MaxExecutionTime <= 0 {
		o.MaxExecutionTime = 5 * time.Minute
	}
	if o.Chunk <= 0 {
		o.Chunk = 24 * time.Hour
	}
	rs := bt.opts.Rules
	fo := filterOptions(rs)
	qe, err := query.New(query.Options{
		Conn: o.Conn, Database: o.Database, Lists: fo.Lists, Macros: fo.Macros, Evaluator: allRows{},
		Limits: query.Limits{MaxRange: 100 * 366 * 24 * time.Hour, MaxRows: o.PageSize, MaxScanRows: o.PageSize,
			MaxExecutionTime: o.MaxExecutionTime, Filter: fo},
	})
	if err != nil {
		return nil, err
	}
	where, _ := PushDown(rs)
	bt.report.Filter = where
	if where == "false" { // no enabled rule: nothing to read
		return bt.Finish(), nil
	}
	for from := bt.opts.From; from.Before(bt.opts.To); from = from.Add(o.Chunk) {
		to := from.Add(o.Chunk)
		if to.After(bt.opts.To) {
			to = bt.opts.To
		}
		q := query.Query{From: from, To: to, Filter: where, Limit: o.PageSize, OrderBy: []query.Order{{By: "timestamp"}}}
		if err := pages(ctx, qe, q, bt); err != nil {
			return nil, err
		}
	}
	return bt.Finish(), nil
}

// pages reads q page by page, each continuing after the last row of the one before, into bt.
func pages(ctx context.Context, qe *query.Engine, q query.Query, bt *Backtest) error {
	for {
		res, err := qe.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("backtest: read events %s – %s from ClickHouse: %w", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), err)
		}
		bt.report.Rows += uint64(res.Scanned)
		for _, ev := range res.Events {
			bt.Eval(ev)
		}
		if !res.Truncated || res.Next == "" {
			return nil
		}
		q.After = res.Next
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// allRows is the query engine's Evaluator for the residual parts of the pushed-down filter: it keeps
// every row, because the rule engine then evaluates each rule in full anyway (running the residuals
// here too would only evaluate them twice).
type allRows struct{}

func (allRows) Compile(string) (func(*event.Event) (bool, error), error) {
	return func(*event.Event) (bool, error) { return true, nil }, nil
}
