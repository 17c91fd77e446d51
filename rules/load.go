package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	yast "github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/internal/zone"
)

// LoadOptions give the loader what the functions need beyond the rule files.
type LoadOptions struct {
	// Calendars answers offHours(); nil refuses rules that call it.
	Calendars Calendars
	// Zones answers zoneOf(); nil makes zoneOf return "".
	Zones *zone.Map
	// Hosts give hostRole() its roles; the host_roles map list adds to them.
	Hosts []zone.Host
}

// RuleSet is a compiled, immutable set of rules with their lists and macros.
type RuleSet struct {
	Dir    string
	Files  []string
	Rules  []*Rule
	Lists  map[string]*List
	Macros map[string]*Macro
	// Warnings are the non-fatal findings of the load.
	Warnings Diagnostics

	byID  map[string]*Rule
	index *index
	comp  *exprCompiler
}

// Rule returns the rule with the given id.
func (rs *RuleSet) Rule(id string) (*Rule, bool) {
	r, ok := rs.byID[id]
	return r, ok
}

// Load reads and compiles every rule file (*.yaml, *.yml; *.tests.yaml are test files) in dir. It
// refuses the whole set when any rule is wrong: the error is a Diagnostics listing every problem.
func Load(ctx context.Context, dir string, opts LoadOptions) (*RuleSet, error) {
	rs, ds := load(ctx, dir, opts)
	if errs := ds.Errors(); len(errs) > 0 {
		return nil, errs
	}
	return rs, nil
}

// ruleFiles lists the rule files of dir, sorted.
func ruleFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read the rules directory: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || isTestsFile(n) {
			continue
		}
		if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out, nil
}

func isTestsFile(name string) bool {
	return strings.HasSuffix(name, ".tests.yaml") || strings.HasSuffix(name, ".tests.yml")
}

type parsedFile struct {
	path  string
	lines []string
	spec  fileSpec
	ast   *yast.File
}

func (pf *parsedFile) posOf(path string) Pos {
	p := Pos{File: pf.path}
	yp, err := yaml.PathString(path)
	if err != nil {
		return p
	}
	n, err := yp.FilterFile(pf.ast)
	if err != nil || n == nil || n.GetToken() == nil {
		return p
	}
	tk := n.GetToken()
	if m, ok := n.(*yast.MappingNode); ok && len(m.Values) > 0 {
		tk = m.Values[0].Key.GetToken()
	}
	p.Line, p.Column = tk.Position.Line, tk.Position.Column
	return p
}

func (pf *parsedFile) at(t Text) Pos { return Pos{File: pf.path, Line: t.Line, Column: t.Col} }

func parseFile(path string, v any) (*parsedFile, []Diagnostic) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, []Diagnostic{{Pos: Pos{File: path}, Severity: DiagError, Message: fmt.Sprintf("cannot read: %v", err)}}
	}
	pf := &parsedFile{path: path, lines: strings.Split(string(data), "\n")}
	pf.ast, err = parser.ParseBytes(data, 0)
	if err != nil {
		return nil, []Diagnostic{yamlError(path, err)}
	}
	if len(pf.ast.Docs) == 0 || pf.ast.Docs[0].Body == nil {
		return pf, nil
	}
	if len(pf.ast.Docs) > 1 {
		return nil, []Diagnostic{{Pos: Pos{File: path, Line: 1, Column: 1}, Severity: DiagError, Message: "more than one YAML document: keep one document a file, with lists:, macros: and rules: at the top"}}
	}
	if err := yaml.NodeToValue(pf.ast.Docs[0].Body, v, yaml.DisallowUnknownField()); err != nil {
		return nil, []Diagnostic{yamlError(path, err)}
	}
	return pf, nil
}

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
	namePattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	tagPattern  = regexp.MustCompile(`^(T[0-9]{4}(\.[0-9]{3})?|TA[0-9]{4})$`)
)

func load(ctx context.Context, dir string, opts LoadOptions) (*RuleSet, Diagnostics) {
	d := &diags{}
	files, err := ruleFiles(dir)
	if err != nil {
		d.errorf(Pos{File: dir}, "", "%v: give the directory that holds the rule files", err)
		return nil, d.list
	}
	if len(files) == 0 {
		d.errorf(Pos{File: dir}, "", "no rule files (*.yaml) in this directory")
		return nil, d.list
	}
	rs := &RuleSet{Dir: dir, Files: files, Lists: map[string]*List{}, Macros: map[string]*Macro{}, byID: map[string]*Rule{}}
	var parsed []*parsedFile
	for _, path := range files {
		if ctx.Err() != nil {
			d.errorf(Pos{File: dir}, "", "loading interrupted: %v", ctx.Err())
			return nil, d.list
		}
		var spec fileSpec
		pf, errs := parseFile(path, &spec)
		d.list = append(d.list, errs...)
		if pf != nil {
			pf.spec = spec
			parsed = append(parsed, pf)
		}
	}

	// Lists first, then macros, then rules: lists and macros are shared by every file.
	for _, pf := range parsed {
		for i, ls := range pf.spec.Lists {
			pos := pf.posOf(fmt.Sprintf("$.lists[%d]", i))
			name := ls.Name.Value
			if !namePattern.MatchString(name) {
				d.errorf(pos, "", "list name %q: use lower-case letters, digits and _ (e.g. approved_sources)", name)
				continue
			}
			if prev, ok := rs.Lists[name]; ok {
				d.errorf(pos, "", "list %q is already defined at %s: give each list one definition", name, prev.Pos)
				continue
			}
			kind := ls.Kind.Value
			if kind == "" {
				kind = ListString
				if len(ls.Map) > 0 {
					kind = ListMap
				}
			}
			l := newList(name, kind)
			l.Description, l.Pos = ls.Description, pos
			if !slices.Contains([]string{ListIP, ListDomain, ListString, ListMap}, kind) {
				d.errorf(pf.at(ls.Kind), "", "list %q: kind %q: use ip, domain, string or map", name, kind)
				continue
			}
			for j, it := range ls.Items {
				if err := l.add(it); err != nil {
					d.errorf(pf.posOf(fmt.Sprintf("$.lists[%d].items[%d]", i, j)), "", "list %q: %v", name, err)
				}
			}
			for k, v := range ls.Map {
				if kind != ListMap {
					d.errorf(pos, "", "list %q has map: entries but is of kind %s: make it kind: map", name, kind)
					break
				}
				l.values[k] = v
			}
			if ls.File.Value != "" {
				p := ls.File.Value
				if !filepath.IsAbs(p) {
					p = filepath.Join(filepath.Dir(pf.path), p)
				}
				for _, err := range l.readFile(p) {
					d.errorf(pf.at(ls.File), "", "%v", err)
				}
			}
			rs.Lists[name] = l
		}
	}
	cals := opts.Calendars
	if cals == nil {
		cals = fileCalendars(parsed, d)
	}
	f := newFuncs(rs.Lists, cals, opts.Zones, opts.Hosts)
	reserved := map[string]bool{}
	for _, n := range fieldNames() {
		reserved[strings.SplitN(n, ".", 2)[0]] = true
	}
	for _, fd := range functionDocs {
		reserved[fd.Name] = true
	}
	var macroSrc []struct {
		pf *parsedFile
		t  Text
		m  *Macro
	}
	for _, pf := range parsed {
		for i, ms := range pf.spec.Macros {
			pos := pf.posOf(fmt.Sprintf("$.macros[%d]", i))
			name := ms.Name.Value
			switch {
			case !namePattern.MatchString(name):
				d.errorf(pos, "", "macro name %q: use lower-case letters, digits and _ (e.g. from_mynumber)", name)
				continue
			case reserved[name]:
				d.errorf(pos, "", "macro name %q is taken by an event field or a function: choose another name", name)
				continue
			case rs.Macros[name] != nil:
				d.errorf(pos, "", "macro %q is already defined at %s: give each macro one definition", name, rs.Macros[name].Pos)
				continue
			case strings.TrimSpace(ms.Condition.Value) == "":
				d.errorf(pos, "", "macro %q has no condition: write one, e.g. condition: source.zone == \"mynumber\"", name)
				continue
			}
			m := &Macro{Name: name, Description: ms.Description, Condition: ms.Condition.Value, Pos: pos}
			rs.Macros[name] = m
			macroSrc = append(macroSrc, struct {
				pf *parsedFile
				t  Text
				m  *Macro
			}{pf, ms.Condition, m})
		}
	}
	rs.comp = newCompiler(f, rs.Macros)
	for _, ms := range macroSrc {
		if _, err := rs.comp.compile(ms.m.Condition); err != nil {
			msg, off := exprMessage(err)
			d.errorf(exprPos(ms.pf.path, ms.pf.lines, ms.t, off), "", "macro %q: %s", ms.m.Name, hint(msg, rs.Macros))
		}
	}

	for _, pf := range parsed {
		for i, spec := range pf.spec.Rules {
			if ctx.Err() != nil {
				d.errorf(Pos{File: dir}, "", "loading interrupted: %v", ctx.Err())
				return nil, d.list
			}
			spec.pos = pf.posOf(fmt.Sprintf("$.rules[%d]", i))
			r := compileRule(pf, i, spec, rs, d)
			if r == nil {
				continue
			}
			if prev, ok := rs.byID[r.ID]; ok {
				d.errorf(r.Pos, r.ID, "id is already used by the rule at %s: give each rule its own id", prev.Pos)
				continue
			}
			r.seq = len(rs.Rules)
			rs.Rules = append(rs.Rules, r)
			rs.byID[r.ID] = r
		}
	}
	loadTestsFiles(dir, rs, d)
	rs.index = buildIndex(rs.Rules)
	d.list.sort()
	for _, x := range d.list {
		if x.Severity == DiagWarning {
			rs.Warnings = append(rs.Warnings, x)
		}
	}
	if d.failed() {
		return nil, d.list
	}
	return rs, d.list
}

// fileCalendars builds the calendars defined in the rule files, for a loader given none.
func fileCalendars(parsed []*parsedFile, d *diags) Calendars {
	specs := map[string]calendar.CalendarSpec{}
	where := map[string]Pos{}
	for _, pf := range parsed {
		for name, spec := range pf.spec.Calendars {
			pos := pf.posOf("$.calendars." + name)
			if prev, ok := where[name]; ok {
				d.errorf(pos, "", "calendar %q is already defined at %s: give each calendar one definition", name, prev)
				continue
			}
			specs[name], where[name] = spec, pos
		}
	}
	if len(specs) == 0 {
		return nil
	}
	set, err := calendar.NewSet(specs, nil)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			pos := Pos{File: "calendars"}
			for name, p := range where {
				if strings.Contains(line, fmt.Sprintf("%q", name)) {
					pos = p
				}
			}
			d.errorf(pos, "", "%s: fix the calendar definition", line)
		}
		return nil
	}
	return CalendarSet(set)
}

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

// loadTestsFiles reads <name>.tests.yaml files: tests kept next to the rules instead of inline.
func loadTestsFiles(dir string, rs *RuleSet, d *diags) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() || !isTestsFile(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		var spec struct {
			Tests []testSpec `yaml:"tests"`
		}
		pf, errs := parseFile(path, &spec)
		d.list = append(d.list, errs...)
		if pf == nil {
			continue
		}
		for i, te := range spec.Tests {
			pos := pf.posOf(fmt.Sprintf("$.tests[%d]", i))
			r, ok := rs.byID[te.Rule]
			if !ok {
				d.errorf(pos, "", "test %q is for rule %q, which does not exist (or did not compile)", te.Name, te.Rule)
				continue
			}
			te.pos = pos
			t, err := buildTest(te)
			if err != nil {
				d.errorf(pos, r.ID, "test %q: %v", te.Name, err)
				continue
			}
			r.Tests = append(r.Tests, t)
		}
	}
}
