package query

import (
	"slices"
	"strings"
	"time"
)

// Source is a table that can answer some aggregate queries instead of events: a rollup. The engine
// asks each Source of Options.Sources in order and reads the first that covers the query; the
// events table answers the rest. A Source covers a query when the filter is exact and reads only
// Columns, the scope's zone columns are among Columns, every group-by field is a column, every
// aggregation is in Aggs (or is a distinct count of one of Columns), the time range is aligned to
// Step, and the bucket (if any) is a multiple of Step.
type Source struct {
	// Table is the table's name in the engine's database (events_hourly).
	Table string
	// TimeColumn is its time column (hour); Step its granularity (1h).
	TimeColumn string
	Step       time.Duration
	// Columns are the events columns it keeps as keys, under the same names.
	Columns []string
	// Aggs maps the SQL of an aggregation over events to its SQL over this table:
	// "count()" → "sum(events)". A distinct count of a key column (uniqExact(user_name)) needs no
	// entry: every value of the events a row counts is its key, so it is the same over the rollup.
	Aggs map[string]string
}

// EventsHourly describes the events_hourly rollup of migrations 0005_rollups and 0009_rollup_scopes
// (which added observer_zone, so that zone-scoped queries can read it), for Options.Sources.
var EventsHourly = Source{
	Table:      "events_hourly",
	TimeColumn: "hour",
	Step:       time.Hour,
	Columns:    []string{"source_zone", "destination_zone", "observer_zone", "action", "source_type"},
	Aggs:       hourlySums,
}

// UserZonesHourly describes the user_zones_hourly rollup of migration 0009_rollup_scopes: traffic
// per hour, zones and user, for distinct users and top users by zone. Put it after EventsHourly,
// which is smaller and answers whatever needs no user.
var UserZonesHourly = Source{
	Table:      "user_zones_hourly",
	TimeColumn: "hour",
	Step:       time.Hour,
	Columns:    []string{"source_zone", "destination_zone", "observer_zone", "user_name"},
	Aggs:       hourlySums,
}

// hourlySums are the sums both hourly rollups keep.
var hourlySums = map[string]string{
	"count()":                      "sum(events)",
	"countIf(outcome = 'failure')": "sum(denied)",
	"sum(bytes_out)":               "sum(bytes_out)",
	"sum(bytes_in)":                "sum(bytes_in)",
}

// Rollups returns zonewatch's rollups in the order an engine should try them (Options.Sources).
func Rollups() []Source { return []Source{EventsHourly, UserZonesHourly} }

// eventsSource is the events table, which answers every query.
var eventsSource = Source{Table: "events", TimeColumn: "timestamp"}

func (s Source) covers(p *plan) bool {
	if s.Step <= 0 || !p.filter.Exact() {
		return false
	}
	for c := range p.columns {
		if c != "timestamp" && !slices.Contains(s.Columns, c) {
			return false
		}
	}
	for _, a := range p.aggs {
		if _, ok := s.agg(a.sql); !ok {
			return false
		}
	}
	aligned := func(t time.Time) bool { return t.Truncate(s.Step).Equal(t) }
	if !aligned(p.q.From) || !aligned(p.q.To) {
		return false
	}
	return p.bucket == 0 || p.bucket%s.Step == 0
}

// agg returns the SQL of an aggregation on this source, and whether it can compute it.
func (s Source) agg(sql string) (string, bool) {
	if r, ok := s.Aggs[sql]; ok {
		return r, true
	}
	if col, ok := strings.CutPrefix(sql, "uniqExact("); ok && slices.Contains(s.Columns, strings.TrimSuffix(col, ")")) {
		return sql, true
	}
	return "", false
}

// aggSQL returns the SQL of an aggregation on this source.
func (s Source) aggSQL(sql string) string {
	if s.Aggs == nil {
		return sql
	}
	r, _ := s.agg(sql)
	return r
}

func (e *Engine) chooseSource(p *plan) Source {
	for _, s := range e.o.Sources {
		if s.covers(p) {
			return s
		}
	}
	return eventsSource
}
