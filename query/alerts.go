package query

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Alert statuses: open → acknowledged → resolved, and back to open when reopened.
const (
	AlertOpen         = "open"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// Alert actions, as the API names them, and the alert_actions.action each writes.
const (
	ActAck     = "ack"
	ActResolve = "resolve"
	ActReopen  = "reopen"
)

// transitions lists, per action, the statuses it may be taken from, the alert_actions action it
// writes and the status it leads to. Resolving needs an acknowledgement first, so that every
// resolved alert was looked at by someone on record before it was closed.
var transitions = map[string]struct {
	from   []string
	action string
	to     string
}{
	ActAck:     {[]string{AlertOpen}, "acknowledge", AlertAcknowledged},
	ActResolve: {[]string{AlertAcknowledged}, "resolve", AlertResolved},
	ActReopen:  {[]string{AlertAcknowledged, AlertResolved}, "open", AlertOpen},
}

// statusOf maps alert_actions.action to the status it leaves the alert in.
func statusOf(action string) string {
	switch action {
	case "acknowledge":
		return AlertAcknowledged
	case "resolve":
		return AlertResolved
	}
	return AlertOpen
}

var errNoRows = stdsql.ErrNoRows

// MaxCommentLength bounds an action's comment, in characters.
const MaxCommentLength = 4000

// Alert is one alert of the alerts table with its workflow status.
type Alert struct {
	ID              string            `json:"id"`
	RuleID          string            `json:"rule_id"`
	Title           AlertTitle        `json:"title"`
	Severity        string            `json:"severity"`
	Kind            string            `json:"kind"`
	Tags            []string          `json:"tags"`
	GroupKey        string            `json:"group_key"`
	Group           map[string]string `json:"group"`
	Count           uint64            `json:"count"`
	Distinct        uint64            `json:"distinct"`
	EventIDs        []string          `json:"event_ids"`
	EventIDsOmitted uint64            `json:"event_ids_omitted"`
	Zones           []string          `json:"zones"`
	FirstSeen       time.Time         `json:"first_seen"`
	LastSeen        time.Time         `json:"last_seen"`
	Suppressed      uint64            `json:"suppressed"`
	Created         time.Time         `json:"created"`
	// Status is open, acknowledged or resolved; StatusBy and StatusAt say who set it and when
	// (empty while no one has acted on the alert).
	Status   string     `json:"status"`
	StatusBy string     `json:"status_by,omitempty"`
	StatusAt *time.Time `json:"status_at,omitempty"`
	// History is the alert's workflow, oldest first (Alert only, not Alerts).
	History []AlertAction `json:"history,omitempty"`
}

// AlertTitle is a rule's title in Japanese and English.
type AlertTitle struct {
	Ja string `json:"ja"`
	En string `json:"en"`
}

// AlertAction is one row of alert_actions.
type AlertAction struct {
	// Action is open, acknowledge or resolve; Status the status it left the alert in.
	Action  string    `json:"action"`
	Status  string    `json:"status"`
	Who     string    `json:"who"`
	Comment string    `json:"comment"`
	At      time.Time `json:"at"`
}

// AlertFilter selects alerts. Zero fields select everything.
type AlertFilter struct {
	// From and To select the alerts active in [From, To): last_seen >= From and first_seen < To.
	From, To time.Time
	Status   string // open, acknowledged or resolved
	Severity string
	RuleID   string
	Zone     string // alerts whose events touched this zone
	// Limit caps the alerts returned, newest first; default Limits.DefaultRows, at most MaxRows.
	Limit int
	Scope Scope
}

const chTime = "2006-01-02 15:04:05.000"

// alertColumns is what Alerts and Alert read, in the order scanAlert scans; a is the alerts
// table, s the alert_status view.
const alertColumns = `a.id, a.rule_id, a.title_ja, a.title_en, a.severity, a.kind, a.tags, a.group_key, a.group, a.count,
a.distinct_count, a.event_ids, a.event_ids_omitted, a.zones, a.first_seen, a.last_seen, a.suppressed, a.created,
if(s.alert_id = '', '', toString(s.status)), s.last_who, s.last_at`

func (e *Engine) alertsFrom() string {
	return e.o.Database + ".alerts AS a FINAL LEFT JOIN " + e.o.Database + ".alert_status AS s ON s.alert_id = a.id"
}

// visible is the condition that hides alerts whose events touched a hidden zone, as their events are.
func visible(s Scope) (string, any) {
	hidden := s.Hidden
	if hidden == nil {
		hidden = []string{}
	}
	return "NOT hasAny(a.zones, {hidden:Array(String)})", clickhouse.Named("hidden", hidden)
}

type rowScanner interface{ Scan(dest ...any) error }

func scanAlert(r rowScanner) (*Alert, error) {
	var (
		a      Alert
		action string
		lastAt time.Time
	)
	err := r.Scan(&a.ID, &a.RuleID, &a.Title.Ja, &a.Title.En, &a.Severity, &a.Kind, &a.Tags, &a.GroupKey, &a.Group, &a.Count,
		&a.Distinct, &a.EventIDs, &a.EventIDsOmitted, &a.Zones, &a.FirstSeen, &a.LastSeen, &a.Suppressed, &a.Created,
		&action, &a.StatusBy, &lastAt)
	if err != nil {
		return nil, err
	}
	a.Status = statusOf(action)
	if action != "" {
		at := lastAt.UTC()
		a.StatusAt = &at
	}
	a.FirstSeen, a.LastSeen, a.Created = a.FirstSeen.UTC(), a.LastSeen.UTC(), a.Created.UTC()
	return &a, nil
}

// AlertsResult is a page of alerts.
type AlertsResult struct {
	Alerts    []*Alert `json:"alerts"`
	Truncated bool     `json:"truncated"`
}

// Alerts returns the alerts f selects that f.Scope may see, newest (by first_seen) first.
func (e *Engine) Alerts(ctx context.Context, f AlertFilter) (*AlertsResult, error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, badQuery("limit %d: give a positive number", limit)
	case limit == 0:
		limit = e.o.Limits.DefaultRows
	case limit > e.o.Limits.MaxRows:
		return nil, tooLarge("limit %d is over the most rows a query may return (%d)", limit, e.o.Limits.MaxRows)
	}
	cond, hidden := visible(f.Scope)
	conds, args := []string{cond}, []any{hidden}
	add := func(c, name string, v any) {
		conds = append(conds, c)
		args = append(args, clickhouse.Named(name, v))
	}
	if !f.From.IsZero() {
		add("a.last_seen >= {from:DateTime64(3, 'UTC')}", "from", f.From.UTC().Format(chTime))
	}
	if !f.To.IsZero() {
		add("a.first_seen < {to:DateTime64(3, 'UTC')}", "to", f.To.UTC().Format(chTime))
	}
	switch f.Status {
	case "":
	case AlertOpen, AlertAcknowledged, AlertResolved:
		add("transform(toString(s.status), ['acknowledge', 'resolve'], ['acknowledged', 'resolved'], 'open') = {status:String}", "status", f.Status)
	default:
		return nil, badQuery("status %q: use open, acknowledged or resolved", f.Status)
	}
	if f.Severity != "" {
		add("a.severity = {severity:String}", "severity", f.Severity)
	}
	if f.RuleID != "" {
		add("a.rule_id = {rule:String}", "rule", f.RuleID)
	}
	if f.Zone != "" {
		if slices.Contains(f.Scope.Hidden, f.Zone) {
			return nil, &Error{Kind: ErrForbidden, Msg: fmt.Sprintf("zone %q is outside this caller's scope: ask an administrator for a token scoped to it", f.Zone)}
		}
		add("has(a.zones, {zone:String})", "zone", f.Zone)
	}
	sql := "SELECT " + alertColumns + " FROM " + e.alertsFrom() + " WHERE " + strings.Join(conds, " AND ") +
		fmt.Sprintf(" ORDER BY a.first_seen DESC, a.id LIMIT %d", limit+1)
	rows, err := e.o.Conn.Query(e.ctx(ctx), sql, args...)
	if err != nil {
		return nil, classify(ctx, "alerts", err)
	}
	defer rows.Close()
	res := &AlertsResult{Alerts: []*Alert{}}
	for rows.Next() {
		if len(res.Alerts) == limit {
			res.Truncated = true
			break
		}
		a, err := scanAlert(rows)
		if err != nil {
			return nil, classify(ctx, "alerts", err)
		}
		res.Alerts = append(res.Alerts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "alerts", err)
	}
	return res, nil
}

// Alert returns one alert with its history, or ErrNotFound when there is none with that id or
// scope may not see it (the two are not told apart, so that ids of hidden alerts leak nothing).
func (e *Engine) Alert(ctx context.Context, id string, scope Scope) (*Alert, error) {
	cond, hidden := visible(scope)
	sql := "SELECT " + alertColumns + " FROM " + e.alertsFrom() + " WHERE a.id = {id:String} AND " + cond + " LIMIT 1"
	a, err := scanAlert(e.o.Conn.QueryRow(e.ctx(ctx), sql, clickhouse.Named("id", id), hidden))
	if errors.Is(err, errNoRows) {
		return nil, &Error{Kind: ErrNotFound, Msg: fmt.Sprintf("no alert %q (or not one this caller may see)", id)}
	}
	if err != nil {
		return nil, classify(ctx, "alert "+id, err)
	}
	rows, err := e.o.Conn.Query(e.ctx(ctx), "SELECT toString(action), who, comment, at FROM "+e.o.Database+
		".alert_actions WHERE alert_id = {id:String} ORDER BY at, action", clickhouse.Named("id", id))
	if err != nil {
		return nil, classify(ctx, "alert "+id+" history", err)
	}
	defer rows.Close()
	a.History = []AlertAction{}
	for rows.Next() {
		var x AlertAction
		if err := rows.Scan(&x.Action, &x.Who, &x.Comment, &x.At); err != nil {
			return nil, classify(ctx, "alert "+id+" history", err)
		}
		x.Status, x.At = statusOf(x.Action), x.At.UTC()
		a.History = append(a.History, x)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "alert "+id+" history", err)
	}
	// The history decides the status (the view agrees unless an action landed in between).
	if n := len(a.History); n > 0 {
		last := a.History[n-1]
		a.Status, a.StatusBy, a.StatusAt = last.Status, last.Who, &last.At
	}
	return a, nil
}

// ActOnAlert takes an action (ActAck, ActResolve, ActReopen) on an alert as who, with a comment,
// by appending a row to alert_actions, and returns the alert as it now is. It answers ErrNotFound
// for an alert scope may not see and ErrConflict when the alert's status does not allow the action.
// Actions through one Engine are serialised, so two concurrent acknowledgements of one alert
// cannot both pass the check; engines in several processes could still race.
func (e *Engine) ActOnAlert(ctx context.Context, id, action, who, comment string, scope Scope) (*Alert, error) {
	tr, ok := transitions[action]
	if !ok {
		return nil, badQuery("action %q: use ack, resolve or reopen", action)
	}
	if strings.TrimSpace(who) == "" {
		return nil, badQuery("an action needs who takes it")
	}
	if n := len([]rune(comment)); n > MaxCommentLength {
		return nil, tooLarge("the comment has %d characters; at most %d", n, MaxCommentLength)
	}
	e.actMu.Lock()
	defer e.actMu.Unlock()
	a, err := e.Alert(ctx, id, scope)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(tr.from, a.Status) {
		return nil, &Error{Kind: ErrConflict, Msg: fmt.Sprintf("alert %s is %s: %s applies to an alert that is %s", id, a.Status, action, strings.Join(tr.from, " or "))}
	}
	// alert_status takes the latest action by time: a new action must come strictly after the last.
	at := e.o.Now().UTC().Truncate(time.Millisecond)
	if a.StatusAt != nil && !at.After(*a.StatusAt) {
		at = a.StatusAt.Add(time.Millisecond)
	}
	err = e.o.Conn.Exec(e.ctx(ctx), "INSERT INTO "+e.o.Database+".alert_actions (alert_id, action, who, comment, at) VALUES ({id:String}, {action:String}, {who:String}, {comment:String}, {at:DateTime64(3, 'UTC')})",
		clickhouse.Named("id", id), clickhouse.Named("action", tr.action), clickhouse.Named("who", who),
		clickhouse.Named("comment", comment), clickhouse.Named("at", at.Format(chTime)))
	if err != nil {
		return nil, classify(ctx, "record "+action+" of alert "+id, err)
	}
	return e.Alert(ctx, id, scope)
}

// RuleStat is what the alerts say about one rule.
type RuleStat struct {
	RuleID       string     `json:"rule_id"`
	Title        AlertTitle `json:"title"`
	Severity     string     `json:"severity"`
	Alerts       uint64     `json:"alerts"`
	Hits         uint64     `json:"hits"` // events the alerts stand for (sum of their counts)
	Open         uint64     `json:"open"`
	Acknowledged uint64     `json:"acknowledged"`
	Resolved     uint64     `json:"resolved"`
	LastSeen     *time.Time `json:"last_seen,omitempty"`
}

// RuleStats counts, per rule, the alerts active in [from, to) (zero: unbounded) that scope may see,
// by status, and the events they stand for. Rules without alerts are not listed.
func (e *Engine) RuleStats(ctx context.Context, from, to time.Time, scope Scope) ([]RuleStat, error) {
	cond, hidden := visible(scope)
	conds, args := []string{cond}, []any{hidden}
	if !from.IsZero() {
		conds = append(conds, "a.last_seen >= {from:DateTime64(3, 'UTC')}")
		args = append(args, clickhouse.Named("from", from.UTC().Format(chTime)))
	}
	if !to.IsZero() {
		conds = append(conds, "a.first_seen < {to:DateTime64(3, 'UTC')}")
		args = append(args, clickhouse.Named("to", to.UTC().Format(chTime)))
	}
	const st = "if(s.alert_id = '', 'open', toString(s.status))"
	sql := "SELECT a.rule_id, any(a.title_ja), any(a.title_en), any(a.severity), count(), sum(a.count), countIf(" + st + " = 'open'), countIf(" + st +
		" = 'acknowledge'), countIf(" + st + " = 'resolve'), max(a.last_seen) FROM " + e.alertsFrom() + " WHERE " + strings.Join(conds, " AND ") +
		fmt.Sprintf(" GROUP BY a.rule_id ORDER BY a.rule_id LIMIT %d", e.o.Limits.MaxRows)
	rows, err := e.o.Conn.Query(e.ctx(ctx), sql, args...)
	if err != nil {
		return nil, classify(ctx, "rule statistics", err)
	}
	defer rows.Close()
	out := []RuleStat{}
	for rows.Next() {
		var (
			r    RuleStat
			last time.Time
		)
		if err := rows.Scan(&r.RuleID, &r.Title.Ja, &r.Title.En, &r.Severity, &r.Alerts, &r.Hits, &r.Open, &r.Acknowledged, &r.Resolved, &last); err != nil {
			return nil, classify(ctx, "rule statistics", err)
		}
		last = last.UTC()
		r.LastSeen = &last
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "rule statistics", err)
	}
	return out, nil
}
