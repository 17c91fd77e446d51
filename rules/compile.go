package rules

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/zonewatch/zonewatch/internal/event"
)

var addrType = reflect.TypeOf(netip.Addr{})

// Macro is a named boolean sub-expression shared between rules. A macro's name used in a condition
// stands for the macro's expression as one parenthesised operand: the expansion is done on the syntax
// tree, never on the text, so operator precedence cannot change its meaning.
type Macro struct {
	Name        string
	Description string
	Condition   string
	Pos         Pos
}

// exprError is an error at a rune offset of an expression.
type exprError struct {
	From int
	Msg  string
}

func (e *exprError) Error() string { return e.Msg }

// compiler turns condition text into programs; one per RuleSet.
type exprCompiler struct {
	f      *funcs
	macros map[string]*Macro
	opts   []expr.Option
	// preds are the Go predicates of all conditions, each once: rules that share a conjunct
	// (event.category == "web") share its predicate, and the engine evaluates it once per event.
	preds   []predicate
	predIdx map[string]int
}

func newCompiler(f *funcs, macros map[string]*Macro) *exprCompiler {
	c := &exprCompiler{f: f, macros: macros, predIdx: map[string]int{}}
	c.opts = append([]expr.Option{expr.Env(event.Event{}), expr.AsBool()}, f.options()...)
	return c
}

// compiled is a compiled boolean expression and the tree it came from (macros expanded).
type compiled struct {
	src     string
	program *vm.Program
	require []constraint
	// natives index the compiler's shared Go predicates, one for each top-level conjunct that could be
	// compiled to Go; nativeOnly says they are all of them.
	natives    []int
	nativeOnly bool
}

func (c *exprCompiler) config() *conf.Config {
	cfg := conf.CreateNew()
	// The macro expander and the constant patcher come first, so that the operator overloads (==, !=
	// on addresses) see the expanded tree with IP constants already in place.
	pre := &patcher{c: c}
	expr.Patch(pre)(cfg)
	expr.Patch(&addrPatcher{p: pre})(cfg)
	for _, o := range c.opts {
		o(cfg)
	}
	for name := range cfg.Disabled {
		delete(cfg.Builtins, name)
	}
	cfg.Check()
	return cfg
}

// compile compiles a boolean condition. Errors are *exprError or *file.Error with the rune offset.
func (c *exprCompiler) compile(src string) (*compiled, error) {
	cfg := c.config()
	var pre *patcher
	for _, v := range cfg.Visitors {
		if p, ok := v.(*patcher); ok {
			pre = p
		}
	}
	tree, err := checker.ParseCheck(src, cfg)
	if pre.err != nil {
		return nil, pre.err
	}
	if err != nil {
		return nil, err
	}
	if err := c.checkConstants(tree.Node); err != nil {
		return nil, err
	}
	req := constraints(tree.Node)
	nat, all := c.natives(tree.Node)
	if err := optimizer.Optimize(&tree.Node, cfg); err != nil {
		return nil, err
	}
	prog, err := compiler.Compile(tree, cfg)
	if err != nil {
		return nil, err
	}
	return &compiled{src: src, program: prog, require: req, natives: nat, nativeOnly: all}, nil
}

// patcher expands macros and turns string constants compared with addresses into address constants.
type patcher struct {
	c     *exprCompiler
	stack []string
	err   *exprError
}

func (p *patcher) fail(n ast.Node, format string, a ...any) {
	if p.err == nil {
		p.err = &exprError{From: n.Location().From, Msg: fmt.Sprintf(format, a...)}
	}
}

func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		m, ok := p.c.macros[n.Value]
		if !ok {
			return
		}
		if slices.Contains(p.stack, n.Value) {
			p.fail(n, "macros form a cycle (%s): break it", strings.Join(append(p.stack, n.Value), " → "))
			return
		}
		t, err := parser.Parse(m.Condition)
		if err != nil {
			p.fail(n, "macro %q (%s) does not parse: %v", n.Value, m.Pos, err)
			return
		}
		sub := &patcher{c: p.c, stack: append(slices.Clone(p.stack), n.Value)}
		ast.Walk(&t.Node, sub)
		if sub.err != nil {
			sub.err.From = n.Location().From
			p.fail(n, "%s", sub.err.Msg)
			return
		}
		loc := n.Location()
		ast.Walk(&t.Node, locator{loc})
		ast.Patch(node, t.Node)
	}
}

// addrPatcher runs after the macros are expanded and the tree is type-checked once: it turns string
// constants compared with addresses, and ip("…") calls with a constant, into address constants.
type addrPatcher struct{ p *patcher }

func (a *addrPatcher) Visit(node *ast.Node) {
	p := a.p
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "==", "!=":
			if n.Left.Type() == addrType {
				p.addr(&n.Right)
			} else if n.Right.Type() == addrType {
				p.addr(&n.Left)
			}
		case "in":
			if arr, ok := n.Right.(*ast.ArrayNode); ok && n.Left.Type() == addrType {
				for i := range arr.Nodes {
					p.addr(&arr.Nodes[i])
				}
				arr.SetType(reflect.TypeOf([]any{}))
			}
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "ip" && len(n.Arguments) == 1 {
			if s, ok := n.Arguments[0].(*ast.StringNode); ok {
				a, err := netip.ParseAddr(s.Value)
				if err != nil {
					p.fail(s, "ip(%q): not an IP address: write 10.1.2.3 or 2001:db8::1", s.Value)
					return
				}
				c := &ast.ConstantNode{Value: a.Unmap()}
				ast.Patch(node, c)
				c.SetType(addrType)
			}
		}
	}
}

func (p *patcher) addr(n *ast.Node) {
	if _, ok := (*n).(*ast.NilNode); ok { // source.ip == nil: the event has no address
		c := &ast.ConstantNode{Value: netip.Addr{}}
		ast.Patch(n, c)
		c.SetType(addrType)
		return
	}
	s, ok := (*n).(*ast.StringNode)
	if !ok {
		return
	}
	a, err := netip.ParseAddr(s.Value)
	if err != nil {
		p.fail(s, "%q is compared with an address but is not one: write an address such as 10.1.2.3, or use inCIDR() for a range", s.Value)
		return
	}
	c := &ast.ConstantNode{Value: a.Unmap()}
	ast.Patch(n, c)
	c.SetType(addrType)
}

type locator struct{ loc file.Location }

func (l locator) Visit(n *ast.Node) { (*n).SetLocation(l.loc) }

// checkConstants validates, and parses once, the constant arguments of functions: CIDR ranges, regular
// expressions, list names and calendar names. The functions then find them parsed at evaluation time.
func (c *exprCompiler) checkConstants(root ast.Node) error {
	v := &constChecker{c: c}
	ast.Walk(&root, v)
	return v.err
}

type constChecker struct {
	c   *exprCompiler
	err error
}

func (v *constChecker) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok || v.err != nil {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	str := func(i int) (*ast.StringNode, bool) {
		if i >= len(call.Arguments) {
			return nil, false
		}
		s, ok := call.Arguments[i].(*ast.StringNode)
		return s, ok
	}
	fail := func(n ast.Node, format string, a ...any) {
		v.err = &exprError{From: n.Location().From, Msg: fmt.Sprintf(format, a...)}
	}
	f := v.c.f
	switch id.Value {
	case "inCIDR":
		for i := 1; i < len(call.Arguments); i++ {
			if s, ok := str(i); ok {
				pf, err := parsePrefix(s.Value)
				if err != nil {
					fail(s, "inCIDR: %v", err)
					return
				}
				f.prefixes[s.Value] = pf
			}
		}
	case "regex":
		if s, ok := str(1); ok {
			re, err := regexp.Compile(s.Value)
			if err != nil {
				fail(s, "regex: pattern %q does not compile: %v", s.Value, err)
				return
			}
			f.regexps[s.Value] = re
		}
	case "in_list", "lookup":
		i := 1
		if id.Value == "lookup" {
			i = 0
		}
		if s, ok := str(i); ok {
			l, ok := f.lists[s.Value]
			if !ok {
				fail(s, "%s: no list named %q: define it under lists: (%s)", id.Value, s.Value, strings.Join(sortedKeys(f.lists), ", "))
				return
			}
			if id.Value == "lookup" && l.Kind != ListMap {
				fail(s, "lookup: list %q is of kind %s: lookup needs a map list", s.Value, l.Kind)
			}
			if id.Value == "in_list" && call.Arguments[0].Type() == addrType && l.Kind != ListIP {
				fail(s, "in_list: list %q is of kind %s but is tested with an address: make it an ip list", s.Value, l.Kind)
			}
		}
	case "offHours":
		if s, ok := str(0); ok && s.Value != "" {
			if f.cals == nil {
				fail(s, "offHours: calendar %q, but no calendars are configured: give the loader its Calendars", s.Value)
				return
			}
			if _, err := f.cals.OffHours(s.Value, time.Unix(0, 0)); err != nil {
				fail(s, "offHours: calendar %q: %v", s.Value, err)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// constraint is an equality a condition requires of an indexed field: field ∈ values.
type constraint struct {
	field  int
	values []string
}

// Indexed fields, in the order a rule is filed under when its condition constrains several.
const (
	idxAction = iota
	idxModule
	idxCategory
	idxDstZone
	idxSrcZone
	numIdx
)

var indexFields = [numIdx]string{"event.action", "event.module", "event.category", "destination.zone", "source.zone"}

func indexField(s string) int {
	for i, f := range indexFields {
		if f == s {
			return i
		}
	}
	return -1
}

// constraints extracts the equality constraints on indexed fields from the top-level conjunction of a
// (macro-expanded, unoptimised) condition.
func constraints(n ast.Node) []constraint {
	var out []constraint
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		b, ok := n.(*ast.BinaryNode)
		if !ok {
			return
		}
		switch b.Operator {
		case "&&", "and":
			walk(b.Left)
			walk(b.Right)
		case "==":
			f, s := b.Left, b.Right
			if _, ok := f.(*ast.StringNode); ok {
				f, s = s, f
			}
			if sn, ok := s.(*ast.StringNode); ok {
				if i := indexField(memberPath(f)); i >= 0 {
					out = append(out, constraint{field: i, values: []string{sn.Value}})
				}
			}
		case "in":
			arr, ok := b.Right.(*ast.ArrayNode)
			i := indexField(memberPath(b.Left))
			if !ok || i < 0 {
				return
			}
			var vals []string
			for _, e := range arr.Nodes {
				sn, ok := e.(*ast.StringNode)
				if !ok {
					return
				}
				vals = append(vals, sn.Value)
			}
			out = append(out, constraint{field: i, values: vals})
		}
	}
	walk(n)
	return out
}

func memberPath(n ast.Node) string {
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return ""
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	prop, ok2 := m.Property.(*ast.StringNode)
	if !ok || !ok2 || m.Optional {
		return ""
	}
	return id.Value + "." + prop.Value
}
