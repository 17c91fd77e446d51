package rules

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Severities, lowest first.
const (
	SeverityInfo     = "info"
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

var severities = []string{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Rule kinds.
const (
	KindMatch   = "match"   // the condition (with an optional threshold) raises alerts as events arrive
	KindAbsence = "absence" // matching events are heartbeats; their absence, seen by Engine.Tick, alerts
)

// Rule is one compiled detection rule.
type Rule struct {
	ID          string
	Title       Title
	Description string
	Severity    string
	Tags        []string
	Enabled     bool
	Kind        string
	Condition   string
	Exceptions  []Exception
	Threshold   *Threshold
	Suppress    *Suppression
	Absence     *Absence
	Tests       []Test
	Pos         Pos

	cond *compiled
	seq  int     // position in the RuleSet, for a stable alert order
	sig  string  // what window state depends on; state survives a reload only when it is unchanged
	part partKey // what the rule is partitioned on between rule processes (see Partition)
}

// Exception is an allowlist expression: an event that matches it raises no alert, whatever the
// condition says. Exceptions are kept apart from the condition so that the SOC can read them as such.
type Exception struct {
	Name      string
	Condition string
	Pos       Pos
	prog      *vm.Program
}

// Threshold raises an alert when, within a window, at least Need matching events (or Need distinct
// values of Distinct) share the same values of By.
type Threshold struct {
	Need     int
	Distinct string
	By       []string
	Within   time.Duration
	Tumbling bool

	distinct *field
	by       []field
}

// Suppression lets at most one alert per group key through per period.
type Suppression struct {
	For time.Duration
	By  []string
	by  []field
}

// Absence describes a heartbeat: events matching the condition are expected from every value of By at
// least every Every; Sources optionally names a list of values expected from the start.
type Absence struct {
	By      string
	Every   time.Duration
	Sources string
	by      field
}

// Test is a sample of events with the expected outcome.
type Test struct {
	Name   string
	Events []*event.Event
	// TickAfter, when set, calls Engine.Tick this long after the last event (absence rules).
	TickAfter time.Duration
	// Want is the expected number of alerts; -1 means at least one.
	Want int
	Pos  Pos
}

func (t Test) want() string {
	switch t.Want {
	case -1:
		return "an alert"
	case 0:
		return "no alert"
	case 1:
		return "1 alert"
	}
	return fmt.Sprintf("%d alerts", t.Want)
}
