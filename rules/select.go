package rules

import (
	"fmt"
	"slices"
)

// Select returns a copy of the set that holds only the rules with the given ids, each enabled (a rule
// author backtests a rule before enabling it), in the set's order. Lists, macros and compiled
// predicates are shared with rs. An unknown id is an error that names the closest known one.
func (rs *RuleSet) Select(ids ...string) (*RuleSet, error) {
	sub := &RuleSet{Dir: rs.Dir, Files: rs.Files, Lists: rs.Lists, Macros: rs.Macros, Warnings: rs.Warnings,
		byID: map[string]*Rule{}, comp: rs.comp}
	for _, id := range ids {
		if _, ok := rs.byID[id]; !ok {
			known := make([]string, 0, len(rs.Rules))
			for _, r := range rs.Rules {
				known = append(known, r.ID)
			}
			return nil, fmt.Errorf("rule %q is not in %s%s: the rules there are %v", id, rs.Dir, closest(id, known), known)
		}
	}
	for _, r := range rs.Rules {
		if !slices.Contains(ids, r.ID) {
			continue
		}
		one := *r
		one.Enabled = true
		sub.Rules = append(sub.Rules, &one)
		sub.byID[one.ID] = &one
	}
	sub.index = buildIndex(sub.Rules)
	return sub, nil
}
