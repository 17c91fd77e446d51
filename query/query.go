// Package query is zonewatch's read path over ClickHouse: the query model (time range, filter,
// grouping, aggregations), its compilation to parameterised SQL against the events table (or a
// rollup that can answer it, see Source), and the Engine that runs it with limits.
//
// Every query is bounded: a time range on timestamp, no longer than Limits.MaxRange; a row
// limit; and ClickHouse's max_execution_time. Every query carries a Scope whose hidden zones are
// ANDed into its WHERE: scopes are enforced here, below the HTTP API, so every reader gets them.
package query

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/query/filter"
)

// Query is one read of the event store.
type Query struct {
	// From and To bound timestamp: From <= timestamp < To. Zero To is now; zero From is
	// To - Limits.DefaultRange.
	From, To time.Time
	// Filter is an expr condition over the event (see package filter); empty matches all.
	Filter string
	// GroupBy names event fields (source.zone, user.name, labels.policyid …) to group by.
	GroupBy []string
	// Aggs are the aggregations computed per group; default a count.
	Aggs []Agg
	// Bucket groups by time as well, in buckets of this length (whole seconds). Buckets of whole
	// days start at midnight in Japan (DayZone), of whole weeks on Monday there; shorter ones are
	// whole intervals from the Unix epoch (see BucketSQL).
	Bucket time.Duration
	// OrderBy orders the result: by a GroupBy field, an aggregation's name, "bucket", or (for
	// Search) "timestamp". Default: bucket ascending, else the first aggregation descending; Search
	// orders by timestamp descending.
	OrderBy []Order
	// Limit caps the rows returned; default Limits.DefaultRows, at most Limits.MaxRows.
	Limit int
	// Scope limits the events the query may read. The API sets it from the caller's token.
	Scope Scope
	// After continues a Search after the last event of a previous page (SearchResult.Next).
	After string
}

// Order is one ORDER BY key.
type Order struct {
	By   string `json:"by"`
	Desc bool   `json:"desc,omitempty"`
}

// AggOp is an aggregation function.
type AggOp string

// Aggregations.
const (
	Count         AggOp = "count"          // events
	CountDistinct AggOp = "count_distinct" // distinct values of Field
	Sum           AggOp = "sum"            // sum of a numeric Field
	Min           AggOp = "min"            // smallest value of a numeric or time Field
	Max           AggOp = "max"            // largest value of a numeric or time Field
	Top           AggOp = "top"            // the N most frequent values of Field (approximate, topK)
	Denied        AggOp = "denied"         // events whose outcome is failure (denied, blocked, failed logins)
)

// Agg is one aggregation.
type Agg struct {
	Op    AggOp  `json:"op"`
	Field string `json:"field,omitempty"`
	N     int    `json:"n,omitempty"` // for top; default 10
	// As names the result column; default op or op(field).
	As string `json:"as,omitempty"`
}

// Name is the result column's name.
func (a Agg) Name() string {
	switch {
	case a.As != "":
		return a.As
	case a.Field == "":
		return string(a.Op)
	}
	return string(a.Op) + "(" + a.Field + ")"
}

// Scope limits what a query reads. An event is visible when none of its source, destination and
// observer zones is Hidden: a user scoped to lgwan and internet has Hidden = [mynumber] and never
// reads an event from, to or reported within mynumber, while traffic between unguarded zones
// (external, unknown, "") stays visible.
type Scope struct {
	Hidden []string
}

// HiddenFor returns the guarded zones outside allowed: the Hidden zones of a user allowed to see
// allowed ("*" allows all).
func HiddenFor(guarded, allowed []string) []string {
	if slices.Contains(allowed, "*") {
		return nil
	}
	var out []string
	for _, z := range guarded {
		if !slices.Contains(allowed, z) {
			out = append(out, z)
		}
	}
	return out
}

// scopeColumns are the columns Scope reads.
var scopeColumns = []string{"source_zone", "destination_zone", "observer_zone"}

// Limits bound what one query may cost. Zero values pick the documented defaults.
type Limits struct {
	// MaxRange is the longest time range; default 400 days (13 months and a margin).
	MaxRange time.Duration
	// DefaultRange is the range of a query without From; default 24h.
	DefaultRange time.Duration
	// MaxRows caps the rows of any result; default 10000.
	MaxRows int
	// DefaultRows is the limit of a query without one; default 100.
	DefaultRows int
	// MaxBuckets caps (To-From)/Bucket; default 5000.
	MaxBuckets int
	// MaxGroupBy caps len(GroupBy) and MaxAggs len(Aggs); defaults 4 and 8.
	MaxGroupBy, MaxAggs int
	// MaxExecutionTime is ClickHouse's max_execution_time for each query; default 30s.
	MaxExecutionTime time.Duration
	// MaxScanRows caps the rows Search reads from ClickHouse when it evaluates a residual filter
	// in Go; default 100000.
	MaxScanRows int
	// Filter limits the filter (length, depth, parameters); see filter.Options.
	Filter filter.Options
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defD(&l.MaxRange, 400*24*time.Hour)
	defD(&l.DefaultRange, 24*time.Hour)
	defD(&l.MaxExecutionTime, 30*time.Second)
	def(&l.MaxRows, 10000)
	def(&l.DefaultRows, 100)
	l.DefaultRows = min(l.DefaultRows, l.MaxRows)
	def(&l.MaxBuckets, 5000)
	def(&l.MaxGroupBy, 4)
	def(&l.MaxAggs, 8)
	def(&l.MaxScanRows, 100000)
	return l
}

// column is one SELECT expression with the Go-side name of its result column.
type column struct {
	name string // result column name (the field path, aggregation name or "bucket")
	sql  string // SQL expression (alias given by position)
	agg  bool
}

// plan is a compiled query: the parts of a SELECT and its parameters.
type plan struct {
	q       Query
	filter  *filter.Compiled
	keys    []column // GROUP BY expressions (bucket first)
	aggs    []column
	params  []param
	columns map[string]bool // events columns read
	bucket  time.Duration
	from    string // parameter placeholders of the time range, once bound
	to      string
}

type param struct {
	name, typ string
	value     any
}

func (p *plan) addParam(typ string, v any) string {
	name := fmt.Sprintf("q%d", len(p.params)+1)
	p.params = append(p.params, param{name, typ, v})
	return "{" + name + ":" + typ + "}"
}

// normalise applies defaults and checks q against the limits.
func (q Query) normalise(l Limits, now time.Time) (Query, error) {
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-l.DefaultRange)
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	if !q.From.Before(q.To) {
		return q, badQuery("the time range is empty: from (%s) must be before to (%s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if d := q.To.Sub(q.From); d > l.MaxRange {
		return q, tooLarge("the time range is %s, longer than the limit of %s: query a shorter range", d, l.MaxRange)
	}
	if q.Limit < 0 {
		return q, badQuery("limit %d is negative", q.Limit)
	}
	if q.Limit == 0 {
		q.Limit = l.DefaultRows
	}
	if q.Limit > l.MaxRows {
		return q, tooLarge("limit %d is more than the limit of %d rows: narrow the query, or page through it with after (search)", q.Limit, l.MaxRows)
	}
	if len(q.GroupBy) > l.MaxGroupBy {
		return q, tooLarge("%d group-by fields, more than the limit of %d", len(q.GroupBy), l.MaxGroupBy)
	}
	if len(q.Aggs) > l.MaxAggs {
		return q, tooLarge("%d aggregations, more than the limit of %d", len(q.Aggs), l.MaxAggs)
	}
	if q.Bucket < 0 || q.Bucket%time.Second != 0 {
		return q, badQuery("bucket %s must be a positive whole number of seconds", q.Bucket)
	}
	if q.Bucket > 0 {
		if n := q.To.Sub(q.From) / q.Bucket; int(n) > l.MaxBuckets {
			return q, tooLarge("%d buckets of %s, more than the limit of %d: use a larger bucket", n, q.Bucket, l.MaxBuckets)
		}
	}
	for _, z := range q.Scope.Hidden {
		if z == "" {
			return q, badQuery("scope: an empty zone name cannot be hidden")
		}
	}
	return q, nil
}

// compile builds the plan of q: filter, keys and aggregations.
func compile(q Query, l Limits) (*plan, error) {
	fo := l.Filter
	fo.ParamPrefix = "f"
	f, err := filter.Compile(q.Filter, fo)
	if err != nil {
		return nil, wrapFilter(err)
	}
	p := &plan{q: q, filter: f, columns: map[string]bool{}, bucket: q.Bucket}
	for _, c := range f.Columns {
		p.columns[c] = true
	}
	for _, c := range scopeColumns {
		if len(q.Scope.Hidden) > 0 {
			p.columns[c] = true
		}
	}
	p.columns["timestamp"] = true
	if q.Bucket > 0 {
		p.keys = append(p.keys, column{name: "bucket", sql: BucketSQL("timestamp", q.Bucket)})
	}
	seen := map[string]bool{}
	for _, g := range q.GroupBy {
		if seen[g] {
			return nil, badQuery("group by %q twice", g)
		}
		seen[g] = true
		sql, err := p.fieldSQL(g, "group by", true)
		if err != nil {
			return nil, err
		}
		p.keys = append(p.keys, column{name: g, sql: sql})
	}
	aggs := q.Aggs
	if len(aggs) == 0 {
		aggs = []Agg{{Op: Count}}
	}
	for _, a := range aggs {
		sql, err := p.aggSQL(a)
		if err != nil {
			return nil, err
		}
		if seen[a.Name()] {
			return nil, badQuery("two result columns are named %q: name one with \"as\"", a.Name())
		}
		seen[a.Name()] = true
		p.aggs = append(p.aggs, column{name: a.Name(), sql: sql, agg: true})
	}
	return p, nil
}

// fieldSQL returns the column expression of an event field named by its path.
func (p *plan) fieldSQL(path, what string, record bool) (string, error) {
	if key, ok := strings.CutPrefix(path, "labels."); ok && key != "" {
		p.columns["labels"] = true // a rollup has no labels
		return "labels[" + p.addParam("String", key) + "]", nil
	}
	f, ok := filter.LookupField(path)
	if !ok || f.Kind == filter.KindMap {
		return "", badQuery("%s: unknown field %q: use an event field such as source.zone, user.name, destination.port or labels.<name>", what, path)
	}
	if record {
		p.columns[f.Column] = true
	}
	return f.Column, nil
}

func (p *plan) aggSQL(a Agg) (string, error) {
	if a.As != "" && !validName(a.As) {
		return "", badQuery("aggregation name %q: use letters, digits, _ . ( ) and -, at most 64", a.As)
	}
	switch a.Op {
	case Count, Denied:
		if a.Field != "" {
			return "", badQuery("%s takes no field", a.Op)
		}
		if a.Op == Denied {
			return "countIf(outcome = 'failure')", nil
		}
		return "count()", nil
	case CountDistinct, Sum, Min, Max, Top:
		if a.Field == "" {
			return "", badQuery("%s needs a field", a.Op)
		}
		// A rollup keeps aggregated columns under Aggs, not Columns: not recorded as read.
		col, err := p.fieldSQL(a.Field, string(a.Op), false)
		if err != nil {
			return "", err
		}
		f, _ := filter.LookupField(a.Field)
		switch a.Op {
		case CountDistinct:
			return "uniqExact(" + col + ")", nil
		case Sum:
			if f.Kind != filter.KindInt {
				return "", badQuery("sum needs a numeric field (source.bytes, destination.bytes …), not %s", a.Field)
			}
			return "sum(" + col + ")", nil
		case Min, Max:
			if f.Kind != filter.KindInt && f.Kind != filter.KindTime {
				return "", badQuery("%s needs a numeric or time field, not %s", a.Op, a.Field)
			}
			return string(a.Op) + "(" + col + ")", nil
		default:
			n := a.N
			if n == 0 {
				n = 10
			}
			if n < 1 || n > 1000 {
				return "", badQuery("top %d: n must be between 1 and 1000", n)
			}
			return fmt.Sprintf("topK(%d)(%s)", n, col), nil
		}
	}
	return "", badQuery("unknown aggregation %q: use count, count_distinct, sum, min, max, top or denied", a.Op)
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r == '(' || r == ')' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// timeRange returns the condition From <= timeCol < To, binding the bounds once per plan.
func (p *plan) timeRange(timeCol string) string {
	const layout = "2006-01-02 15:04:05.000"
	if p.from == "" {
		p.from = p.addParam("DateTime64(3, 'UTC')", p.q.From.Format(layout))
		p.to = p.addParam("DateTime64(3, 'UTC')", p.q.To.Format(layout))
	}
	return timeCol + " >= " + p.from + " AND " + timeCol + " < " + p.to
}

// where returns the WHERE clause on table t: time range, scope and filter.
func (p *plan) where(timeCol string) string {
	conds := []string{p.timeRange(timeCol)}
	if h := p.q.Scope.Hidden; len(h) > 0 {
		arr := p.addParam("Array(String)", slices.Clone(h))
		for _, c := range scopeColumns {
			conds = append(conds, "NOT has("+arr+", "+c+")")
		}
	}
	if p.filter.Where != "true" {
		conds = append(conds, "("+p.filter.Where+")")
	}
	return strings.Join(conds, " AND ")
}

// args returns the plan's and the filter's parameters as named arguments.
func (p *plan) args() []any {
	out := p.filter.Args()
	for _, x := range p.params {
		out = append(out, named(x.name, x.value))
	}
	return out
}

// orderBy returns the ORDER BY clause for an aggregate query.
func (p *plan) orderBy() (string, error) {
	all := append(slices.Clone(p.keys), p.aggs...)
	alias := func(name string) (string, bool) {
		for i, c := range all {
			if c.name == name {
				return fmt.Sprintf("c%d", i), true
			}
		}
		return "", false
	}
	var parts []string
	for _, o := range p.q.OrderBy {
		a, ok := alias(o.By)
		if !ok {
			names := make([]string, len(all))
			for i, c := range all {
				names[i] = c.name
			}
			return "", badQuery("order by %q: not a result column (%s)", o.By, strings.Join(names, ", "))
		}
		if o.Desc {
			a += " DESC"
		}
		parts = append(parts, a)
	}
	if len(parts) == 0 {
		if p.bucket > 0 {
			parts = append(parts, "c0")
		} else {
			parts = append(parts, fmt.Sprintf("c%d DESC", len(p.keys)))
		}
	}
	// Ties broken by the keys, so that results are stable.
	for i := range p.keys {
		parts = append(parts, fmt.Sprintf("c%d", i))
	}
	return strings.Join(parts, ", "), nil
}
