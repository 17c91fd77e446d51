package query

import (
	"slices"
	"time"
)

// Source is a table that can answer some aggregate queries instead of events: a rollup. The engine
// asks each Source of Options.Sources in order and reads the first that covers the query; the
// events table answers the rest. A Source covers a query when the filter is exact and reads only
// Columns, every group-by field is a column, every aggregation is in Aggs, the time range is
// aligned to Step, and the bucket (if any) is a multiple of Step.
type Source struct {
	// Table is the table's name in the engine's database (events_hourly).
	Table string
	// TimeColumn is its time column (hour); Step its granularity (1h).
	TimeColumn string
	Step       time.Duration
	// Columns are the events columns it keeps, under the same names.
	Columns []string
	// Aggs maps the SQL of an aggregation over events to its SQL over this table:
	// "count()" → "sum(events)".
	Aggs map[string]string
}

// EventsHourly describes the events_hourly rollup of migration 0005_rollups, for Options.Sources.
var EventsHourly = Source{
	Table:      "events_hourly",
	TimeColumn: "hour",
	Step:       time.Hour,
	Columns:    []string{"source_zone", "destination_zone", "action", "source_type"},
	Aggs: map[string]string{
		"count()":                      "sum(events)",
		"countIf(outcome = 'failure')": "sum(denied)",
		"sum(bytes_out)":               "sum(bytes_out)",
		"sum(bytes_in)":                "sum(bytes_in)",
	},
}

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
		if _, ok := s.Aggs[a.sql]; !ok {
			return false
		}
	}
	aligned := func(t time.Time) bool { return t.Truncate(s.Step).Equal(t) }
	if !aligned(p.q.From) || !aligned(p.q.To) {
		return false
	}
	return p.bucket == 0 || p.bucket%s.Step == 0
}

// aggSQL returns the SQL of an aggregation on this source.
func (s Source) aggSQL(sql string) string {
	if s.Aggs == nil {
		return sql
	}
	return s.Aggs[sql]
}

func (e *Engine) chooseSource(p *plan) Source {
	for _, s := range e.o.Sources {
		if s.covers(p) {
			return s
		}
	}
	return eventsSource
}
