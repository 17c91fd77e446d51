package rules

import (
	"context"
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

	byID      map[string]*Rule
	index     *index
	comp      *exprCompiler
	partSlots int // distinct partition keys (see Partition)
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
	} else {
		for _, pf := range parsed {
			if len(pf.spec.Calendars) > 0 {
				d.add(pf.posOf("$.calendars"), DiagInfo, "", "these calendars are not used: the loader was given the deployment's calendars")
			}
		}
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
	rs.partSlots = assignPartSlots(rs.Rules)
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
