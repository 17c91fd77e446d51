package notify

import (
	"fmt"
	"path"
	"slices"

	"github.com/zonewatch/zonewatch/rules"
)

// Route sends the alerts it matches to its receivers. Every condition given must hold; within a list
// one entry is enough. Every route that matches an alert delivers it (each receiver once).
type Route struct {
	// MinSeverity matches alerts of this severity or higher (info < low < medium < high < critical);
	// "" matches every severity.
	MinSeverity string
	// Rules are rule ids or patterns ("ZW-CZ-*", path.Match syntax); empty matches every rule.
	Rules []string
	// Tags match alerts carrying any of them (MITRE ATT&CK ids such as T1046); empty matches all.
	Tags      []string
	Receivers []string
}

var severityRank = map[string]int{
	rules.SeverityInfo: 1, rules.SeverityLow: 2, rules.SeverityMedium: 3, rules.SeverityHigh: 4, rules.SeverityCritical: 5,
}

func (rt Route) check() error {
	if rt.MinSeverity != "" && severityRank[rt.MinSeverity] == 0 {
		return fmt.Errorf("min_severity %q is not one of info, low, medium, high, critical", rt.MinSeverity)
	}
	for _, p := range rt.Rules {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("rules: %q is not a rule id or pattern: %w", p, err)
		}
	}
	if len(rt.Receivers) == 0 {
		return fmt.Errorf("no receivers: name at least one")
	}
	return nil
}

// Matches reports whether the route takes the alert.
func (rt Route) Matches(a *rules.Alert) bool {
	if rt.MinSeverity != "" && severityRank[a.Severity] < severityRank[rt.MinSeverity] {
		return false
	}
	if len(rt.Rules) > 0 && !slices.ContainsFunc(rt.Rules, func(p string) bool {
		ok, _ := path.Match(p, a.RuleID)
		return ok
	}) {
		return false
	}
	if len(rt.Tags) > 0 && !slices.ContainsFunc(rt.Tags, func(t string) bool { return slices.Contains(a.Tags, t) }) {
		return false
	}
	return true
}
