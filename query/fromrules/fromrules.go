// Package fromrules gives queries the rule files' lists and macros, so that a filter says what a
// rule condition says: in_list(destination.ip, "approved_mynumber_destinations"), from_mynumber.
//
//	rs, _ := rules.Load(ctx, dir, opts)
//	eng, _ := query.New(query.Options{…, Lists: fromrules.Lists(rs), Macros: fromrules.Macros(rs)})
package fromrules

import (
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
	"github.com/zonewatch/zonewatch/query/filter"
	"github.com/zonewatch/zonewatch/rules"
)

// Lists returns the rule set's lists with their items (a snapshot: reload after the rules do).
func Lists(rs *rules.RuleSet) filter.MapLists {
	out := filter.MapLists{}
	for name, l := range rs.Lists {
		out[name] = filter.StaticList{Kind: l.Kind, Items: l.Items()}
	}
	return out
}

// Macros returns the rule set's macros as name → condition.
func Macros(rs *rules.RuleSet) map[string]string {
	out := map[string]string{}
	for name, m := range rs.Macros {
		out[name] = m.Condition
	}
	return out
}

// RuleInfos describes the rule set's rules for the API's GET /api/v1/rules (api.Options.Rules).
func RuleInfos(rs *rules.RuleSet) []api.RuleInfo {
	out := make([]api.RuleInfo, 0, len(rs.Rules))
	for _, r := range rs.Rules {
		out = append(out, api.RuleInfo{ID: r.ID, Title: query.AlertTitle{Ja: r.Title.Ja, En: r.Title.En}, Description: r.Description,
			Severity: r.Severity, Kind: r.Kind, Enabled: r.Enabled, Tags: append([]string{}, r.Tags...)})
	}
	return out
}
