// Package backtest runs rules over past events and counts the alerts each rule would have raised, per
// day: how a rule author sees what a new or changed rule would do before it goes live.
//
// A Backtest wraps the real rule engine (rules.Engine) with a clock that follows the events instead of
// the wall: an alert's Created time is the time of the event that raised it, and absence rules are
// checked (Engine.Tick) at every Tick boundary the events pass, from From to To. Events come either from
// ClickHouse (Stored: each rule's condition is pushed down through the query filter compiler, the rows
// stream in timestamp order) or from any other source through Eval.
//
//	bt, _ := backtest.New(backtest.Options{Rules: rs, From: from, To: to})
//	for _, ev := range events { bt.Eval(ev) }
//	rep := bt.Finish()
package backtest

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/rules"
)

// Options configure a Backtest.
type Options struct {
	// Rules is the rule set; every enabled rule runs (RuleSet.Select picks some). Required.
	Rules *rules.RuleSet
	// From and To bound the period, [From, To). Required.
	From, To time.Time
	// Location is where a day starts and ends for the report; default Asia/Tokyo.
	Location *time.Location
	// Tick is the step at which absence rules are checked, as serve's ticker does; default 1m.
	Tick time.Duration
	// OnAlert, when set, receives every alert as it is raised.
	OnAlert func(rules.Alert)
	// Logger receives the engine's evaluation errors; default slog.Default().
	Logger *slog.Logger
}

// Backtest evaluates a period's events with one engine. It is not safe for concurrent use.
type Backtest struct {
	opts     Options
	eng      *rules.Engine
	clock    time.Time // the latest event time (or tick) seen: the engine's "now"
	nextTick time.Time
	report   *Report
	alerts   []rules.Alert
	done     bool
}

// New prepares a backtest of opts.Rules over [opts.From, opts.To).
func New(opts Options) (*Backtest, error) {
	if opts.Rules == nil {
		return nil, errors.New("backtest: Options.Rules is nil: load a rule set first")
	}
	if opts.From.IsZero() || opts.To.IsZero() || !opts.From.Before(opts.To) {
		return nil, fmt.Errorf("backtest: the period %s – %s is empty: give a from before to",
			opts.From.Format(time.RFC3339), opts.To.Format(time.RFC3339))
	}
	if opts.Location == nil {
		opts.Location = calendar.Tokyo()
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Minute
	}
	b := &Backtest{opts: opts, clock: opts.From, nextTick: opts.From.Add(opts.Tick)}
	// The engine's clock is the events' clock: expected log sources are "seen" at From, and alerts are
	// created at the time of the event (or tick) that raised them, so a day in the report is the day the
	// alert would have gone out.
	eng, err := rules.NewEngine(rules.Options{Rules: opts.Rules, Now: func() time.Time { return b.clock }, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	b.eng = eng
	b.report = newReport(opts)
	return b, nil
}

// Eval evaluates one event and returns the alerts it (and the absence checks due before it) raised.
// Events should come in time order; one out of order is still evaluated (the rule windows cope as
// they do live), but does not move the clock back. Events outside [From, To) are ignored.
func (b *Backtest) Eval(ev *event.Event) []rules.Alert {
	if b.done || ev.Timestamp.Before(b.opts.From) || !ev.Timestamp.Before(b.opts.To) {
		return nil
	}
	out := b.tickUntil(ev.Timestamp)
	if ev.Timestamp.After(b.clock) {
		b.clock = ev.Timestamp
	}
	b.report.Events++
	for _, a := range b.eng.Eval(ev) {
		out = append(out, b.record(a))
	}
	return out
}

// tickUntil runs the absence checks of every tick boundary up to and including t.
func (b *Backtest) tickUntil(t time.Time) []rules.Alert {
	var out []rules.Alert
	for !b.nextTick.After(t) && b.nextTick.Before(b.opts.To) {
		b.clock = b.nextTick
		for _, a := range b.eng.Tick(b.nextTick) {
			out = append(out, b.record(a))
		}
		b.nextTick = b.nextTick.Add(b.opts.Tick)
	}
	return out
}

func (b *Backtest) record(a rules.Alert) rules.Alert {
	b.report.add(a, b.opts.Location)
	b.alerts = append(b.alerts, a)
	if b.opts.OnAlert != nil {
		b.opts.OnAlert(a)
	}
	return a
}

// Finish runs the absence checks up to To and returns the report. Eval does nothing after it.
func (b *Backtest) Finish() *Report {
	if !b.done {
		b.tickUntil(b.opts.To.Add(-time.Nanosecond))
		b.done = true
		b.report.Stats = b.eng.Stats()
	}
	return b.report
}

// Alerts returns every alert raised so far, in the order they were raised.
func (b *Backtest) Alerts() []rules.Alert { return b.alerts }
