package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Report is the outcome of RunTests.
type Report struct {
	Dir     string       `json:"dir"`
	Rules   int          `json:"rules"`
	Tests   int          `json:"tests"`
	Passed  int          `json:"passed"`
	Failed  int          `json:"failed"`
	Results []TestResult `json:"results"`
	// Untested lists the rules without both a test that alerts and one that does not.
	Untested []string `json:"untested,omitempty"`
}

// OK reports whether every test passed.
func (r Report) OK() bool { return r.Failed == 0 }

// TestResult is the outcome of one rule test.
type TestResult struct {
	Rule   string `json:"rule"`
	Test   string `json:"test"`
	Pos    Pos    `json:"pos"`
	Passed bool   `json:"passed"`
	Want   string `json:"want"`
	Got    int    `json:"got"`
	// Detail explains a failure: the deciding event and how each operand of the condition evaluated.
	Detail string `json:"detail,omitempty"`
}

func (r Report) String() string {
	var b strings.Builder
	for _, t := range r.Results {
		if t.Passed {
			continue
		}
		fmt.Fprintf(&b, "FAIL %s %q (%s): want %s, got %d\n%s", t.Rule, t.Test, t.Pos, t.Want, t.Got, t.Detail)
	}
	for _, id := range r.Untested {
		fmt.Fprintf(&b, "WARN %s: a rule needs a test that alerts and one that stays quiet: add the missing one\n", id)
	}
	fmt.Fprintf(&b, "%s: %d rules, %d tests, %d passed, %d failed\n", r.Dir, r.Rules, r.Tests, r.Passed, r.Failed)
	return b.String()
}

// RunTests loads the rules in dir and runs every rule's tests, each test in a fresh engine holding that
// rule alone (enabled or not). The error is for rules that do not load; failing tests are in the
// Report.
func RunTests(ctx context.Context, dir string, opts LoadOptions) (Report, error) {
	rs, err := Load(ctx, dir, opts)
	if err != nil {
		return Report{Dir: dir}, err
	}
	return rs.RunTests(ctx)
}

// RunTests runs the tests of the rules of a loaded set.
func (rs *RuleSet) RunTests(ctx context.Context) (Report, error) {
	rep := Report{Dir: rs.Dir, Rules: len(rs.Rules)}
	for _, r := range rs.Rules {
		hit, miss := false, false
		for _, t := range r.Tests {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			res := rs.runTest(r, t)
			rep.Tests++
			if res.Passed {
				rep.Passed++
			} else {
				rep.Failed++
			}
			rep.Results = append(rep.Results, res)
			if t.Want == 0 {
				miss = true
			} else {
				hit = true
			}
		}
		if !hit || !miss {
			rep.Untested = append(rep.Untested, r.ID)
		}
	}
	return rep, nil
}

// only returns a copy of the set that holds r alone, enabled.
func (rs *RuleSet) only(r *Rule) *RuleSet {
	one := *r
	one.Enabled = true
	one.seq = 0
	sub := &RuleSet{Dir: rs.Dir, Files: rs.Files, Rules: []*Rule{&one}, Lists: rs.Lists, Macros: rs.Macros,
		byID: map[string]*Rule{one.ID: &one}, comp: rs.comp}
	sub.index = buildIndex(sub.Rules)
	return sub
}

func (rs *RuleSet) runTest(r *Rule, t Test) TestResult {
	res := TestResult{Rule: r.ID, Test: t.Name, Pos: t.Pos, Want: t.want()}
	start := t.Events[0].Timestamp
	en, _ := NewEngine(Options{Rules: rs.only(r), Now: func() time.Time { return start }})
	for _, ev := range t.Events {
		res.Got += len(en.Eval(ev))
	}
	if t.TickAfter > 0 {
		res.Got += len(en.Tick(t.Events[len(t.Events)-1].Timestamp.Add(t.TickAfter)))
	}
	res.Passed = (t.Want == -1 && res.Got > 0) || (t.Want >= 0 && res.Got == t.Want)
	if !res.Passed {
		res.Detail = rs.explain(r, t, en)
	}
	return res
}

// explain says why a test failed: it picks the event that decided (the first that did not match when an
// alert was wanted, the first that matched when none was) and evaluates the condition's top-level
// operands one by one, then the exceptions.
func (rs *RuleSet) explain(r *Rule, t Test, en *Engine) string {
	var b strings.Builder
	var m vm.VM
	match := func(ev *event.Event) bool {
		v, err := m.Run(r.cond.program, ev)
		return err == nil && v == true && !exceptedBy(&m, r, ev)
	}
	var pick *event.Event
	matched := 0
	for _, ev := range t.Events {
		if match(ev) {
			matched++
			if t.Want == 0 && pick == nil {
				pick = ev
			}
		} else if t.Want != 0 && pick == nil {
			pick = ev
		}
	}
	if pick == nil {
		// Every event behaved as expected one by one: the count is what differs.
		fmt.Fprintf(&b, "  the condition held for %d of %d events", matched, len(t.Events))
		if th := r.Threshold; th != nil {
			what := "matching events"
			if th.Distinct != "" {
				what = "distinct " + th.Distinct
			}
			fmt.Fprintf(&b, "; the threshold needs %d %s", th.Need, what)
			if len(th.By) > 0 {
				fmt.Fprintf(&b, " with the same %s", strings.Join(th.By, ", "))
			}
			fmt.Fprintf(&b, " within %s", th.Within)
		}
		if r.Suppress != nil {
			fmt.Fprintf(&b, "; suppression lets one alert per %s through", r.Suppress.For)
		}
		if st := en.Stats(); st.Late > 0 {
			fmt.Fprintf(&b, "; %d events were older than their window", st.Late)
		}
		b.WriteString("\n")
		return b.String()
	}
	fmt.Fprintf(&b, "  event %s: %s\n", pick.ID, eventText(pick))
	b.WriteString(rs.operands(r.Condition, pick, "  ", 0))
	for _, x := range r.Exceptions {
		v, err := m.Run(x.prog, pick)
		mark := ""
		if v == true {
			mark = "   ← excludes the event"
		}
		fmt.Fprintf(&b, "  exception %q: %s%s\n", x.Name, verdict(v, err), mark)
	}
	return b.String()
}

func exceptedBy(m *vm.VM, r *Rule, ev *event.Event) bool {
	for _, x := range r.Exceptions {
		if v, err := m.Run(x.prog, ev); err == nil && v == true {
			return true
		}
	}
	return false
}

func verdict(v any, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

// operands evaluates the top-level operands of an and/or chain separately; a macro operand is opened
// one level further.
func (rs *RuleSet) operands(src string, ev *event.Event, indent string, depth int) string {
	tree, err := parser.Parse(src)
	if err != nil {
		return indent + "condition does not parse: " + err.Error() + "\n"
	}
	op, parts := "", []ast.Node{tree.Node}
	if b, ok := tree.Node.(*ast.BinaryNode); ok && isLogical(b.Operator) {
		op = logicalName(b.Operator)
		parts = flatten(tree.Node, b.Operator)
	}
	var sb strings.Builder
	if op != "" {
		fmt.Fprintf(&sb, "%scondition, operand by operand (%s):\n", indent, op)
	} else {
		fmt.Fprintf(&sb, "%scondition:\n", indent)
	}
	decided := false
	// A compiler of its own: compiling adds to the shared tables, which a running engine reads.
	comp := newCompiler(rs.comp.f.clone(), rs.Macros)
	for _, p := range parts {
		text := p.String()
		c, err := comp.compile(text)
		var v any
		if err == nil {
			var m vm.VM
			v, err = m.Run(c.program, ev)
		}
		mark := ""
		if !decided && (err != nil || (op != "or" && v == false) || (op == "or" && v == true)) {
			decided, mark = true, "   ← decides"
		}
		fmt.Fprintf(&sb, "%s  %-5s  %s%s\n", indent, verdict(v, err), text, mark)
		inner := p
		if u, ok := p.(*ast.UnaryNode); ok && (u.Operator == "not" || u.Operator == "!") {
			inner = u.Node
		}
		if id, ok := inner.(*ast.IdentifierNode); ok && depth < 2 {
			if mac, ok := rs.Macros[id.Value]; ok {
				sb.WriteString(rs.operands(mac.Condition, ev, indent+"    ", depth+1))
			}
		}
	}
	return sb.String()
}

func isLogical(op string) bool { return op == "&&" || op == "and" || op == "||" || op == "or" }

func logicalName(op string) string {
	if op == "&&" || op == "and" {
		return "and"
	}
	return "or"
}

func flatten(n ast.Node, op string) []ast.Node {
	b, ok := n.(*ast.BinaryNode)
	if !ok || logicalName(b.Operator) != logicalName(op) || !isLogical(b.Operator) {
		return []ast.Node{n}
	}
	return append(flatten(b.Left, op), flatten(b.Right, op)...)
}

// eventText prints the non-empty fields of an event with their ECS names, sorted.
func eventText(ev *event.Event) string {
	b, _ := json.Marshal(ev)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	var parts []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, y)
			}
		case string:
			if x != "" && x != "0001-01-01T00:00:00Z" {
				parts = append(parts, fmt.Sprintf("%s=%q", prefix, x))
			}
		case float64:
			if x != 0 {
				parts = append(parts, fmt.Sprintf("%s=%v", prefix, x))
			}
		case bool:
			if x {
				parts = append(parts, prefix+"=true")
			}
		}
	}
	walk("", m)
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// Explain evaluates the condition of a rule on one event operand by operand (macros opened), then its
// exceptions: what a SOC analyst wants to see when asking why a rule did or did not fire.
func (rs *RuleSet) Explain(ruleID string, ev *event.Event) (string, error) {
	r, ok := rs.Rule(ruleID)
	if !ok {
		return "", fmt.Errorf("no rule %q in %s: list the rules with zonewatch rules lint", ruleID, rs.Dir)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rule %s (%s) on event %s: %s\n", r.ID, r.Pos, ev.ID, eventText(ev))
	b.WriteString(rs.operands(r.Condition, ev, "  ", 0))
	var m vm.VM
	for _, x := range r.Exceptions {
		v, err := m.Run(x.prog, ev)
		mark := ""
		if v == true {
			mark = "   ← excludes the event"
		}
		fmt.Fprintf(&b, "  exception %q: %s%s\n", x.Name, verdict(v, err), mark)
	}
	if r.Threshold != nil {
		fmt.Fprintf(&b, "  (a match counts towards the threshold: %d within %s)\n", r.Threshold.Need, r.Threshold.Within)
	}
	return b.String(), nil
}
