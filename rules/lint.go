package rules

import (
	"context"
	"regexp"
	"strings"
)

// DiagInfo is a suggestion: nothing is wrong, but something could be better.
const DiagInfo = "info"

// Lint loads the rules in dir and reports every problem (the errors that stop a load) and every
// weakness: rules without a test that alerts and one that stays quiet, rules the index cannot file and
// that therefore run for every event, match rules without suppression, unused lists and macros,
// missing descriptions. Findings are sorted by file and line.
func Lint(ctx context.Context, dir string, opts LoadOptions) Diagnostics {
	rs, ds := load(ctx, dir, opts)
	d := &diags{list: ds}
	if rs == nil {
		d.list.sort()
		return d.list
	}
	usedLists, usedMacros := map[string]bool{}, map[string]bool{}
	scan := func(src string) {
		for _, m := range quoted.FindAllStringSubmatch(src, -1) {
			usedLists[m[1]] = true
		}
		for _, w := range words.FindAllString(src, -1) {
			usedMacros[w] = true
		}
	}
	for _, m := range rs.Macros {
		scan(m.Condition)
	}
	catchAll := map[*Rule]bool{}
	for _, r := range rs.index.catchAll {
		catchAll[r] = true
	}
	for _, r := range rs.Rules {
		scan(r.Condition)
		for _, x := range r.Exceptions {
			scan(x.Condition)
		}
		if r.Absence != nil && r.Absence.Sources != "" {
			usedLists[r.Absence.Sources] = true
		}
		hit, miss := false, false
		for _, t := range r.Tests {
			if t.Want == 0 {
				miss = true
			} else {
				hit = true
			}
		}
		switch {
		case !hit && !miss:
			d.warnf(r.Pos, r.ID, "no tests: add one that alerts and one that stays quiet (tests: [{name: …, event: {…}, expect: alert}, …])")
		case !hit:
			d.warnf(r.Pos, r.ID, "no test that alerts: add one with expect: alert")
		case !miss:
			d.warnf(r.Pos, r.ID, "no test that stays quiet: add one with expect: none, close to the alerting case")
		}
		if catchAll[r] {
			d.add(r.Pos, DiagInfo, r.ID, "runs for every event: the index files rules by an equality on event.action, event.module, event.category, destination.zone or source.zone at the top level of the condition; add one if the rule allows")
		}
		if r.Kind == KindMatch && r.Suppress == nil {
			d.add(r.Pos, DiagInfo, r.ID, "every matching event raises an alert: consider suppress: {for: 10m, by: [source.ip]}")
		}
		if r.Description == "" {
			d.add(r.Pos, DiagInfo, r.ID, "no description: say what the rule detects and why it matters, for whoever receives the alert")
		}
		if !r.Enabled {
			d.add(r.Pos, DiagInfo, r.ID, "disabled: it is loaded and tested but does not run")
		}
	}
	for _, name := range sortedKeys(rs.Lists) {
		if !usedLists[name] && name != "host_roles" {
			d.warnf(rs.Lists[name].Pos, "", "list %q is not used by any rule or macro: remove it or use it", name)
		}
	}
	for _, name := range sortedKeys(rs.Macros) {
		if !usedMacros[name] {
			d.warnf(rs.Macros[name].Pos, "", "macro %q is not used by any rule or macro: remove it or use it", name)
		}
	}
	d.list.sort()
	return d.list
}

var (
	quoted = regexp.MustCompile(`"([a-z_][a-z0-9_]*)"`)
	words  = regexp.MustCompile(`[a-z_][a-z0-9_]*`)
)

// String renders diagnostics one a line.
func (ds Diagnostics) String() string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
