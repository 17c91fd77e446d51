// Package report builds the monthly monitoring report (月次監視報告) for the security committee: one
// function (Build) fills a plain model from ClickHouse through the query package (events) and the
// alerts, alert_actions and source_health_hourly tables; renderers turn the model into PDF, HTML, CSV
// and XLSX. The same month and the same data give the same report: every list has a fixed order, and
// the PDF's dates are the end of the month.
package report

import "time"

// Report is the whole monthly report. Times are Asia/Tokyo.
type Report struct {
	Title        string    `json:"title"`
	Organisation string    `json:"organisation,omitempty"`
	Marking      string    `json:"marking"` // 機密性 classification printed on every page
	Month        string    `json:"month"`   // YYYY-MM
	PrevMonth    string    `json:"prev_month"`
	From         time.Time `json:"from"` // first instant of the month, JST
	To           time.Time `json:"to"`   // first instant of the next month, JST
	// Generated is the report's date: the end of the month, so that a report made twice is the same.
	Generated time.Time `json:"generated"`

	Summary    Summary           `json:"summary"`
	Coverage   []SourceCoverage  `json:"coverage"`
	Zones      []ZoneSummary     `json:"zones"`
	Daily      []DayZones        `json:"daily"`
	Matrix     []ZoneCell        `json:"matrix"`
	MatrixZone []string          `json:"matrix_zones"`
	CrossZone  []CrossZonePair   `json:"cross_zone"`
	OffHours   OffHoursSection   `json:"off_hours"`
	Suspicious SuspiciousSection `json:"suspicious"`
	Handling   []HandlingRow     `json:"handling"`
	Incidents  []Incident        `json:"incidents"`
	Decisions  []Decision        `json:"decisions"`
	// Queries are the filters behind the event figures, to reproduce them with the query CLI.
	Queries []QueryRef `json:"queries"`
}

// Summary is section 1.
type Summary struct {
	Events           uint64  `json:"events"`
	PrevEvents       uint64  `json:"prev_events"`
	Denied           uint64  `json:"denied"`
	PrevDenied       uint64  `json:"prev_denied"`
	Alerts           uint64  `json:"alerts"`
	PrevAlerts       uint64  `json:"prev_alerts"`
	SourcesExpected  int     `json:"sources_expected"`
	SourcesReporting int     `json:"sources_reporting"`
	SilentHours      uint64  `json:"silent_hours"` // summed over sources
	HoursInMonth     int     `json:"hours_in_month"`
	CoveragePercent  float64 `json:"coverage_percent"` // source-hours with data / expected source-hours
}

// SourceCoverage is one log source: an observer host, its log type and the listener it came in on.
type SourceCoverage struct {
	Host       string `json:"host"`
	Type       string `json:"type"`
	Listener   string `json:"listener"`
	Events     uint64 `json:"events"`
	PrevEvents uint64 `json:"prev_events"`
	Unparsed   uint64 `json:"unparsed"`
	// HoursReporting are the hours of the month (by arrival time) with at least one line.
	HoursReporting int `json:"hours_reporting"`
	SilentHours    int `json:"silent_hours"`
	LongestGap     int `json:"longest_gap_hours"`
	// MaxSkewSeconds is the largest difference, over the hours, between the newest event time and the
	// newest arrival time: a device clock running ahead or behind.
	MaxSkewSeconds int64 `json:"max_skew_seconds"`
	// Expected is set for a source on the expected list; Reporting when it sent anything this month.
	Expected  bool `json:"expected"`
	Reporting bool `json:"reporting"`
}

// ZoneSummary is section 2, one zone.
type ZoneSummary struct {
	Zone       string            `json:"zone"`
	NameJa     string            `json:"name_ja"`
	PolicyItem string            `json:"policy_item"` // §6 (3) ア / イ / ウ
	PolicyText string            `json:"policy_text"`
	Events     uint64            `json:"events"`
	PrevEvents uint64            `json:"prev_events"`
	Denied     uint64            `json:"denied"`
	Alerts     map[string]uint64 `json:"alerts"` // by severity
	AlertTotal uint64            `json:"alert_total"`
}

// DayZones is one day's events by source zone (for the bar chart).
type DayZones struct {
	Day    string            `json:"day"` // YYYY-MM-DD, JST
	Events map[string]uint64 `json:"events"`
	Denied uint64            `json:"denied"`
	Alerts uint64            `json:"alerts"`
}

// ZoneCell is one cell of the zone-pair matrix.
type ZoneCell struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Events      uint64 `json:"events"`
	Denied      uint64 `json:"denied"`
	Forbidden   bool   `json:"forbidden"`
}

// CrossZonePair is section 3: one forbidden zone pair.
type CrossZonePair struct {
	Source      string     `json:"source"`
	Destination string     `json:"destination"`
	PolicyItem  string     `json:"policy_item"`
	Events      uint64     `json:"events"`
	Denied      uint64     `json:"denied"`
	Allowed     uint64     `json:"allowed"`
	Sources     uint64     `json:"sources"` // distinct source addresses
	TopSources  []KeyCount `json:"top_sources"`
	PrevEvents  uint64     `json:"prev_events"`
}

// KeyCount is a value and how often it occurred.
type KeyCount struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
}

// OffHoursSection is section 4.
type OffHoursSection struct {
	Filter    string          `json:"filter"`
	Calendars []CalendarInfo  `json:"calendars"`
	Groups    []OffHoursGroup `json:"groups"`
	Classes   []OffHoursGroup `json:"classes"`
	TopUsers  []OffHoursUser  `json:"top_users"`
	Unmapped  OffHoursGroup   `json:"unmapped"` // accounts no calendar covers: never judged off-hours
	Alerts    uint64          `json:"alerts"`   // alerts of the off-hours rules (ZW-OH-*)
}

// CalendarInfo describes a calendar that defined off-hours.
type CalendarInfo struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Hours string `json:"hours"`
	Users int    `json:"users"`
}

// OffHoursGroup sums the off-hours activity of a group or a user class.
type OffHoursGroup struct {
	Name          string `json:"name"`
	Calendar      string `json:"calendar,omitempty"`
	Users         int    `json:"users"`
	Events        uint64 `json:"events"`
	OffHours      uint64 `json:"off_hours"`
	OffHoursUsers int    `json:"off_hours_users"`
}

// OffHoursUser is one account with off-hours activity.
type OffHoursUser struct {
	User     string `json:"user"`
	Group    string `json:"group"`
	Events   uint64 `json:"events"`
	OffHours uint64 `json:"off_hours"`
}

// SuspiciousSection is section 5.
type SuspiciousSection struct {
	TopRules   []RuleCount     `json:"top_rules"`
	TopSources []SourceCount   `json:"top_sources"`
	Categories []CategoryCount `json:"categories"`
}

// RuleCount is one rule's alerts in the month and the month before.
type RuleCount struct {
	Rule      string `json:"rule"`
	Title     string `json:"title"`
	Severity  string `json:"severity"`
	Alerts    uint64 `json:"alerts"`
	PrevAlert uint64 `json:"prev_alerts"`
}

// SourceCount is a source address with denied events.
type SourceCount struct {
	Address string `json:"address"`
	Zone    string `json:"zone"`
	Denied  uint64 `json:"denied"`
}

// CategoryCount is one proxy category.
type CategoryCount struct {
	Category string `json:"category"`
	Events   uint64 `json:"events"`
	Blocked  uint64 `json:"blocked"`
}

// HandlingRow is section 6 for one severity (or "合計").
type HandlingRow struct {
	Severity     string  `json:"severity"`
	Opened       uint64  `json:"opened"`
	Acknowledged uint64  `json:"acknowledged"`
	Resolved     uint64  `json:"resolved"`
	StillOpen    uint64  `json:"still_open"`
	MedianAckMin float64 `json:"median_ack_minutes"`
	MaxAckMin    float64 `json:"max_ack_minutes"`
}

// Incident is one notable alert (section 7).
type Incident struct {
	ID          string    `json:"id"`
	Rule        string    `json:"rule"`
	Title       string    `json:"title"`
	Severity    string    `json:"severity"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Group       string    `json:"group"`
	Count       uint64    `json:"count"`
	Zones       []string  `json:"zones"`
	Status      string    `json:"status"`
	Description string    `json:"description"`
}

// Decision is an item for the committee (section 8).
type Decision struct {
	Kind   string `json:"kind"` // noisy_rule, silent_source, exception
	Ref    string `json:"ref"`
	Text   string `json:"text"`
	Figure uint64 `json:"figure"`
}

// QueryRef is the filter behind a figure.
type QueryRef struct {
	ID      string `json:"id"`
	What    string `json:"what"`
	Filter  string `json:"filter"`
	GroupBy string `json:"group_by,omitempty"`
	Range   string `json:"range"` // "month" or "prev"
}
