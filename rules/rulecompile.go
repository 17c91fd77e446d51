package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// compileRule checks and compiles one rule as written; it reports every problem it finds and returns
// nil when there was one.
func compileRule(pf *parsedFile, i int, spec ruleSpec, rs *RuleSet, d *diags) *Rule {
	id := spec.ID.Value
	pos := spec.pos
	if id == "" {
		d.errorf(pos, "", "rule without an id: add id: (e.g. ZW-CZ-001)")
		return nil
	}
	if !idPattern.MatchString(id) {
		d.errorf(pf.at(spec.ID), "", "rule id %q: use letters, digits, '-', '_' and '.', starting with a letter", id)
		return nil
	}
	ok := true
	r := &Rule{ID: id, Title: spec.Title, Description: strings.TrimSpace(spec.Description), Severity: spec.Severity.Value,
		Tags: spec.Tags, Enabled: spec.Enabled == nil || *spec.Enabled, Kind: spec.Kind.Value, Condition: strings.TrimSpace(spec.Condition.Value), Pos: pos}
	if r.Title.Ja == "" || r.Title.En == "" {
		d.errorf(pos, id, "title needs both languages: title: {ja: …, en: …}")
		ok = false
	}
	if !slices.Contains(severities, r.Severity) {
		d.errorf(orPos(pf.at(spec.Severity), pos), id, "severity %q: use one of %s", r.Severity, strings.Join(severities, ", "))
		ok = false
	}
	for j, tag := range r.Tags {
		if !tagPattern.MatchString(tag) {
			d.warnf(pf.posOf(fmt.Sprintf("$.rules[%d].tags[%d]", i, j)), id, "tag %q is not a MITRE ATT&CK id (T1110, T1110.001, TA0008)", tag)
		}
	}
	if r.Kind == "" {
		r.Kind = KindMatch
	}
	if r.Kind != KindMatch && r.Kind != KindAbsence {
		d.errorf(pf.at(spec.Kind), id, "kind %q: use match (the default) or absence", r.Kind)
		return nil
	}
	if r.Condition == "" {
		d.errorf(pos, id, "no condition: write one, e.g. condition: event.module == \"sshd\" and event.outcome == \"failure\"")
		return nil
	}
	c, err := rs.comp.compile(spec.Condition.Value)
	if err != nil {
		msg, off := exprMessage(err)
		d.errorf(exprPos(pf.path, pf.lines, spec.Condition, off), id, "condition: %s", hint(msg, rs.Macros))
		ok = false
	}
	r.cond = c
	for j, es := range spec.Exceptions {
		ex := Exception{Name: es.Name, Condition: strings.TrimSpace(es.Condition.Value), Pos: pf.posOf(fmt.Sprintf("$.rules[%d].exceptions[%d]", i, j))}
		if ex.Name == "" {
			d.errorf(ex.Pos, id, "exception without a name: say why it is allowed, e.g. name: approved backup flow")
			ok = false
		}
		ec, err := rs.comp.compile(es.Condition.Value)
		if err != nil {
			msg, off := exprMessage(err)
			d.errorf(exprPos(pf.path, pf.lines, es.Condition, off), id, "exception %q: %s", ex.Name, hint(msg, rs.Macros))
			ok = false
			continue
		}
		ex.prog = ec.program
		r.Exceptions = append(r.Exceptions, ex)
	}
	if t := spec.Threshold; t != nil {
		tpos := pf.posOf(fmt.Sprintf("$.rules[%d].threshold", i))
		th := &Threshold{Within: t.Within.D, Distinct: t.Distinct.Value}
		switch {
		case t.MoreThan != nil && t.AtLeast != nil:
			d.errorf(tpos, id, "threshold has both more_than and at_least: keep one")
			ok = false
		case t.MoreThan != nil && *t.MoreThan >= 0:
			th.Need = *t.MoreThan + 1
		case t.AtLeast != nil && *t.AtLeast >= 1:
			th.Need = *t.AtLeast
		default:
			d.errorf(tpos, id, "threshold needs more_than: N (N ≥ 0) or at_least: N (N ≥ 1)")
			ok = false
		}
		if th.Within <= 0 {
			d.errorf(tpos, id, "threshold needs within: a window such as 1m or 5m")
			ok = false
		}
		switch t.Window.Value {
		case "", "sliding":
		case "tumbling":
			th.Tumbling = true
		default:
			d.errorf(pf.at(t.Window), id, "window %q: use sliding (the default) or tumbling", t.Window.Value)
			ok = false
		}
		if th.Distinct != "" {
			fl, err := newField(th.Distinct)
			if err != nil {
				d.errorf(pf.at(t.Distinct), id, "threshold distinct: %v", err)
				ok = false
			}
			th.distinct = &fl
		}
		for _, b := range t.By {
			fl, err := newField(b.Value)
			if err != nil {
				d.errorf(pf.at(b), id, "threshold by: %v", err)
				ok = false
			}
			th.By = append(th.By, b.Value)
			th.by = append(th.by, fl)
		}
		r.Threshold = th
	}
	if s := spec.Suppress; s != nil {
		sp := &Suppression{For: s.For.D}
		if sp.For <= 0 {
			d.errorf(pf.posOf(fmt.Sprintf("$.rules[%d].suppress", i)), id, "suppress needs for: a period such as 10m")
			ok = false
		}
		by := s.By
		if len(by) == 0 && r.Threshold != nil {
			for _, b := range r.Threshold.By {
				by = append(by, Text{Value: b})
			}
		}
		for _, b := range by {
			fl, err := newField(b.Value)
			if err != nil {
				d.errorf(orPos(pf.at(b), pos), id, "suppress by: %v", err)
				ok = false
			}
			sp.By = append(sp.By, b.Value)
			sp.by = append(sp.by, fl)
		}
		r.Suppress = sp
	}
	if r.Kind == KindAbsence {
		a := spec.Absence
		if a == nil {
			d.errorf(pos, id, "an absence rule needs absence: {by: observer.hostname, expected_every: 10m}")
			return nil
		}
		ab := &Absence{By: a.By.Value, Every: a.Every.D, Sources: a.Sources.Value}
		if ab.By == "" {
			ab.By = "observer.hostname"
		}
		fl, err := newField(ab.By)
		if err != nil {
			d.errorf(orPos(pf.at(a.By), pos), id, "absence by: %v", err)
			ok = false
		}
		ab.by = fl
		if ab.Every <= 0 {
			d.errorf(pos, id, "absence needs expected_every: the longest normal silence, e.g. 15m")
			ok = false
		}
		if ab.Sources != "" {
			if _, found := rs.Lists[ab.Sources]; !found {
				d.errorf(pf.at(a.Sources), id, "absence sources: no list named %q", ab.Sources)
				ok = false
			}
		}
		if r.Threshold != nil {
			d.errorf(pos, id, "an absence rule cannot have a threshold: remove one of them")
			ok = false
		}
		r.Absence = ab
	} else if spec.Absence != nil {
		d.errorf(pos, id, "absence: is only for kind: absence rules")
		ok = false
	}
	for j, ts := range spec.Tests {
		ts.pos = pf.posOf(fmt.Sprintf("$.rules[%d].tests[%d]", i, j))
		if ts.Rule != "" && ts.Rule != id {
			d.errorf(ts.pos, id, "test %q names rule %q but is written under rule %s: remove rule: from inline tests", ts.Name, ts.Rule, id)
			ok = false
			continue
		}
		if t, err := buildTest(ts); err != nil {
			d.errorf(ts.pos, id, "test %q: %v", ts.Name, err)
			ok = false
		} else {
			r.Tests = append(r.Tests, t)
		}
	}
	if spec.TestsFile.Value != "" {
		d.errorf(pf.at(spec.TestsFile), id, "tests_file is not supported: put tests in a file named <rules file>.tests.yaml with entries {rule: %s, …}", id)
	}
	if !ok {
		return nil
	}
	r.sig = signature(r)
	r.part = partKeyOf(r)
	return r
}

func orPos(p, fallback Pos) Pos {
	if p.Line == 0 {
		return fallback
	}
	return p
}

// signature hashes what a rule's window and suppression state depends on.
func signature(r *Rule) string {
	b, _ := json.Marshal(struct {
		C string
		T *Threshold
		S *Suppression
		A *Absence
	}{r.Condition, r.Threshold, r.Suppress, r.Absence})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}
