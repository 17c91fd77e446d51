package backtest

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zonewatch/zonewatch/rules"
)

// Report is what a backtest found: alerts per rule and per day.
type Report struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	TimeZone string    `json:"time_zone"` // of the days
	// Filter is the condition pushed down to ClickHouse to narrow the rows read ("" = every row);
	// Rows the rows read. Both are set only by Stored.
	Filter string `json:"filter,omitempty"`
	Rows   uint64 `json:"rows,omitempty"`
	// Events is the number of events evaluated.
	Events uint64 `json:"events"`
	// Alerts is the total over all rules.
	Alerts int          `json:"alerts"`
	Rules  []RuleReport `json:"rules"`
	Stats  rules.Stats  `json:"engine"`
	byID   map[string]*RuleReport
	loc    *time.Location
}

// RuleReport is one rule's alerts. Every rule of the backtest has one, with or without alerts.
type RuleReport struct {
	ID       string      `json:"id"`
	Title    rules.Title `json:"title"`
	Severity string      `json:"severity"`
	Alerts   int         `json:"alerts"`
	// Days maps a day (YYYY-MM-DD in TimeZone) to the alerts created on it; days without alerts are absent.
	Days map[string]int `json:"days"`
}

func newReport(opts Options) *Report {
	r := &Report{From: opts.From.UTC(), To: opts.To.UTC(), TimeZone: opts.Location.String(), byID: map[string]*RuleReport{}, loc: opts.Location}
	for _, rule := range opts.Rules.Rules {
		if rule.Enabled {
			r.Rules = append(r.Rules, RuleReport{ID: rule.ID, Title: rule.Title, Severity: rule.Severity, Days: map[string]int{}})
		}
	}
	for i := range r.Rules {
		r.byID[r.Rules[i].ID] = &r.Rules[i]
	}
	return r
}

func (r *Report) add(a rules.Alert, loc *time.Location) {
	rr, ok := r.byID[a.RuleID]
	if !ok { // cannot happen: the engine runs only the report's rules
		return
	}
	rr.Alerts++
	rr.Days[a.Created.In(loc).Format(time.DateOnly)]++
	r.Alerts++
}

// Rule returns the report of one rule.
func (r *Report) Rule(id string) (RuleReport, bool) {
	rr, ok := r.byID[id]
	if !ok {
		return RuleReport{}, false
	}
	return *rr, true
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for a terminal: a summary line, then one line per rule with its total
// and its alerts per day.
func (r *Report) WriteTable(w io.Writer) error {
	loc := r.loc
	if loc == nil { // a report read back from JSON
		var err error
		if loc, err = time.LoadLocation(r.TimeZone); err != nil {
			loc = time.UTC
		}
	}
	const layout = "2006-01-02 15:04"
	fmt.Fprintf(w, "backtest %s – %s (%s): %d events evaluated", r.From.In(loc).Format(layout), r.To.In(loc).Format(layout), r.TimeZone, r.Events)
	if r.Rows > 0 || r.Filter != "" {
		fmt.Fprintf(w, " of %d rows read", r.Rows)
	}
	fmt.Fprintf(w, ", %d alerts\n", r.Alerts)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tALERTS\tPER DAY\tTITLE")
	for _, rr := range r.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", rr.ID, rr.Severity, rr.Alerts, perDay(rr.Days), rr.Title.En)
	}
	return tw.Flush()
}

// perDay lists the days with alerts, in order: "2026-11-02:3 2026-11-05:1"; "-" for none.
func perDay(days map[string]int) string {
	if len(days) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(days))
	for d := range days {
		keys = append(keys, d)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, d := range keys {
		parts[i] = fmt.Sprintf("%s:%d", d, days[d])
	}
	return strings.Join(parts, " ")
}
