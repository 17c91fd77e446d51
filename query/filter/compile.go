package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// compiler holds the state of one Compile call.
type compiler struct {
	src       string
	runes     []rune
	opts      Options
	params    []Param
	residuals []Residual
	columns   map[string]bool // events columns the filter reads
	zones     map[string]bool // zones the filter asks for by equality
}

// unpushable says that an operand or condition cannot be evaluated in ClickHouse.
type unpushable struct {
	node   ast.Node
	reason string
}

func (u *unpushable) Error() string { return u.reason }

func (c *compiler) errorf(n ast.Node, format string, a ...any) *Error {
	from, _ := c.span(n)
	return newError(c.src, from, format, a...)
}

func (c *compiler) errorAt(n ast.Node, format string, a ...any) *Error {
	return newError(c.src, n.Location().From, format, a...)
}

// Functions whose names filters may use, besides expr's builtins: the rule engine's (see
// rules/funcs.go). Those not in pushable are accepted and left as residuals.
var (
	pushable   = []string{"inCIDR", "isPrivate", "regex", "in_list", "ip"}
	residualFn = map[string]string{
		"offHours":         "needs the duty calendars, which live in zonewatch, not in ClickHouse",
		"zoneOf":           "needs the zone map, which lives in zonewatch: compare source.zone or destination.zone instead",
		"hostRole":         "needs the named hosts of the zone map: compare source.host or destination.host instead",
		"lookup":           "needs a map list, which lives in zonewatch",
		"domainOf":         "parses URLs the way the rule engine does, which ClickHouse's domain() does not match exactly: use url.domain",
		"registeredDomain": "needs the public suffix list of the rule engine: use url.domain endsWith \".example.jp\"",
		"subdomain":        "needs the public suffix list of the rule engine",
		"entropy":          "has no ClickHouse equivalent",
		"secondsBetween":   "is not pushed down to ClickHouse yet",
	}
)

func knownFunctions() []string {
	out := slices.Clone(pushable)
	for k := range residualFn {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// validate checks every name the filter uses and the nesting depth, before anything is translated,
// so that an unknown field inside an unpushable part is still an error.
func (c *compiler) validate(n ast.Node, depth int) error {
	if depth > c.opts.MaxDepth {
		e := c.errorf(n, "the filter is nested more than %d levels deep: flatten it (a chain of and/or counts as one level)", c.opts.MaxDepth)
		e.Limit = true
		return e
	}
	switch n := n.(type) {
	case nil:
		return nil
	case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode, *ast.ConstantNode, *ast.PointerNode:
		return nil
	case *ast.BytesNode:
		return c.errorf(n, "byte strings are not supported in filters: write a string")
	case *ast.IdentifierNode:
		_, err := c.resolve(n)
		return err
	case *ast.MemberNode:
		if _, ok := n.Node.(*ast.PointerNode); ok { // .field inside a predicate
			return nil
		}
		_, err := c.resolve(n)
		return err
	case *ast.ChainNode:
		return c.validate(n.Node, depth)
	case *ast.UnaryNode:
		return c.validate(n.Node, depth+1)
	case *ast.BinaryNode:
		if isLogical(n.Operator) {
			for _, p := range flatten(n, logicalOp(n.Operator)) {
				if err := c.validate(p, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if err := c.validate(n.Left, depth+1); err != nil {
			return err
		}
		return c.validate(n.Right, depth+1)
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return c.errorf(n, "only functions can be called, not methods: write f(x)")
		}
		if _, ok := residualFn[id.Value]; !ok && !slices.Contains(pushable, id.Value) {
			return c.errorAt(n, "unknown function %q: filters know expr's builtins (lower, upper, len …) and %s", id.Value, strings.Join(knownFunctions(), ", "))
		}
		return c.validateAll(n.Arguments, depth+1)
	case *ast.BuiltinNode:
		return c.validateAll(n.Arguments, depth+1)
	case *ast.PredicateNode:
		return c.validate(n.Node, depth+1)
	case *ast.ArrayNode:
		return c.validateAll(n.Nodes, depth+1)
	case *ast.MapNode:
		return c.validateAll(n.Pairs, depth+1)
	case *ast.PairNode:
		return c.validateAll([]ast.Node{n.Key, n.Value}, depth+1)
	case *ast.ConditionalNode:
		return c.validateAll([]ast.Node{n.Cond, n.Exp1, n.Exp2}, depth+1)
	case *ast.SliceNode:
		return c.validateAll([]ast.Node{n.Node, n.From, n.To}, depth+1)
	case *ast.VariableDeclaratorNode, *ast.SequenceNode:
		return c.errorf(n, "let and ; are not supported in filters: write one condition")
	}
	return c.errorf(n, "this kind of expression (%T) is not supported in filters", n)
}

func (c *compiler) validateAll(ns []ast.Node, depth int) error {
	for _, x := range ns {
		if x == nil {
			continue
		}
		if err := c.validate(x, depth); err != nil {
			return err
		}
	}
	return nil
}

// resolve maps an identifier or member chain to a field operand.
func (c *compiler) resolve(n ast.Node) (operand, error) {
	path, ok := memberPath(n)
	if !ok {
		return operand{}, c.errorf(n, "only event fields have members (source.ip, labels.policyid)")
	}
	if key, ok := strings.CutPrefix(path, "labels."); ok {
		c.columns["labels"] = true
		return operand{kind: KindString, labelKey: key, labels: true, node: n}, nil
	}
	f, ok := LookupField(path)
	if ok {
		c.columns[f.Column] = true
		return operand{kind: f.Kind, sql: f.Column, field: &f, node: n}, nil
	}
	if isGroup(path) {
		return operand{}, c.errorf(n, "%q is a group of fields, not a value: name one of %s", path, strings.Join(groupFields(path), ", "))
	}
	return operand{}, c.errorf(n, "%s", unknownField(path))
}

func memberPath(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.ChainNode:
		return memberPath(n.Node)
	case *ast.IdentifierNode:
		return n.Value, true
	case *ast.MemberNode:
		base, ok := memberPath(n.Node)
		if !ok {
			return "", false
		}
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return "", false
		}
		return base + "." + prop.Value, true
	}
	return "", false
}

func isLogical(op string) bool { return op == "and" || op == "&&" || op == "or" || op == "||" }

func logicalOp(op string) string {
	if op == "and" || op == "&&" {
		return "AND"
	}
	return "OR"
}

// flatten returns the operands of a chain of the same logical operator.
func flatten(n ast.Node, op string) []ast.Node {
	b, ok := n.(*ast.BinaryNode)
	if !ok || !isLogical(b.Operator) || logicalOp(b.Operator) != op {
		return []ast.Node{n}
	}
	return append(flatten(b.Left, op), flatten(b.Right, op)...)
}

// cond translates a boolean node. neg says whether the node sits under an odd number of NOTs:
// an unpushable leaf becomes the constant that widens the result (true, or false under NOT).
func (c *compiler) cond(n ast.Node, neg bool) (string, error) {
	switch n := n.(type) {
	case *ast.ChainNode:
		return c.cond(n.Node, neg)
	case *ast.BoolNode:
		return strconv.FormatBool(n.Value), nil
	case *ast.UnaryNode:
		if n.Operator == "not" || n.Operator == "!" {
			s, err := c.cond(n.Node, !neg)
			if err != nil {
				return "", err
			}
			switch s {
			case "true":
				return "false", nil
			case "false":
				return "true", nil
			}
			return "NOT (" + s + ")", nil
		}
	case *ast.BinaryNode:
		switch {
		case isLogical(n.Operator):
			op := logicalOp(n.Operator)
			var parts []string
			for _, p := range flatten(n, op) {
				s, err := c.cond(p, neg)
				if err != nil {
					return "", err
				}
				switch {
				case op == "AND" && s == "false", op == "OR" && s == "true":
					return s, nil
				case op == "AND" && s == "true", op == "OR" && s == "false":
					continue
				}
				parts = append(parts, "("+s+")")
			}
			switch len(parts) {
			case 0:
				return strconv.FormatBool(op == "AND"), nil
			case 1:
				return strings.TrimSuffix(strings.TrimPrefix(parts[0], "("), ")"), nil
			}
			return strings.Join(parts, " "+op+" "), nil
		case slices.Contains([]string{"==", "!=", "<", "<=", ">", ">="}, n.Operator):
			return c.leaf(n, neg, func() (string, error) { return c.compare(n) })
		case n.Operator == "in":
			return c.leaf(n, neg, func() (string, error) { return c.in(n) })
		case slices.Contains([]string{"contains", "startsWith", "endsWith", "matches"}, n.Operator):
			return c.leaf(n, neg, func() (string, error) { return c.stringOp(n) })
		}
	case *ast.IdentifierNode, *ast.MemberNode:
		op, err := c.resolve(n)
		if err != nil {
			return "", err
		}
		if op.kind != KindBool {
			t, _ := c.text(n)
			return "", c.errorf(n, "%s is of type %s, not a condition: compare it, e.g. %s == \"…\"", t, op.kind, t)
		}
		return op.sql, nil
	case *ast.CallNode:
		return c.leaf(n, neg, func() (string, error) { return c.call(n) })
	case *ast.BuiltinNode:
		return c.leaf(n, neg, func() (string, error) { return c.builtinCond(n) })
	case *ast.ConditionalNode:
		return c.leaf(n, neg, func() (string, error) {
			return "", &unpushable{n, "conditional expressions (?: and if/else) are not pushed down"}
		})
	}
	t, _ := c.text(n)
	return "", c.errorf(n, "%q is not a condition: a filter must be true or false for an event, e.g. source.zone == \"lgwan\"", t)
}

// leaf translates a condition that cannot be split further, turning an unpushable one into a
// Residual (or, with Strict, an error).
func (c *compiler) leaf(n ast.Node, neg bool, f func() (string, error)) (string, error) {
	mark := len(c.params)
	s, err := f()
	var u *unpushable
	if !errors.As(err, &u) {
		return s, err
	}
	c.params = c.params[:mark]
	text, from := c.text(n)
	if c.opts.Strict {
		return "", newError(c.src, from, "%s cannot be evaluated in ClickHouse: %s (it can run on events in zonewatch; without Strict it is returned as a residual)", text, u.reason)
	}
	c.residuals = append(c.residuals, Residual{Expr: text, Pos: position(c.src, from), Reason: u.reason})
	return strconv.FormatBool(!neg), nil
}

// operand is a translated value: a column expression or a constant not yet bound to a parameter.
type operand struct {
	kind     Kind
	sql      string // column expression, for non-constants
	field    *Field
	labels   bool   // labels.<labelKey>
	labelKey string //
	isConst  bool
	str      string
	i        int64
	f        float64
	b        bool
	ip       netip.Addr
	isNil    bool // nil: only an address compared with nil (no address) means something
	node     ast.Node
}

func (c *compiler) param(n ast.Node, typ string, v any) (string, error) {
	if len(c.params) >= c.opts.MaxParams {
		e := c.errorf(n, "the filter needs more than %d query parameters: shorten it, or put long lists of values in a named list and use in_list", c.opts.MaxParams)
		e.Limit = true
		return "", e
	}
	name := c.opts.ParamPrefix + strconv.Itoa(len(c.params)+1)
	c.params = append(c.params, Param{Name: name, Type: typ, Value: v})
	return "{" + name + ":" + typ + "}", nil
}

// sql returns the SQL of an operand, binding a constant to a parameter.
func (c *compiler) sql(o operand) (string, error) {
	if o.labels {
		k, err := c.param(o.node, "String", o.labelKey)
		if err != nil {
			return "", err
		}
		return "labels[" + k + "]", nil
	}
	if !o.isConst {
		return o.sql, nil
	}
	switch o.kind {
	case KindString:
		return c.param(o.node, "String", o.str)
	case KindInt:
		return c.param(o.node, "Int64", strconv.FormatInt(o.i, 10))
	case KindFloat:
		return c.param(o.node, "Float64", strconv.FormatFloat(o.f, 'g', -1, 64))
	case KindBool:
		return strconv.FormatBool(o.b), nil
	case KindIP:
		return c.param(o.node, "IPv6", ip6(o.ip))
	}
	return "", c.errorf(o.node, "internal error: constant of kind %s", o.kind)
}

// ip6 formats an address the way the events table stores it: IPv4 as IPv4-mapped IPv6.
func ip6(a netip.Addr) string { return netip.AddrFrom16(a.As16()).String() }

// value translates a node used as a value.
func (c *compiler) value(n ast.Node) (operand, error) {
	switch x := n.(type) {
	case *ast.ChainNode:
		return c.value(x.Node)
	case *ast.IdentifierNode, *ast.MemberNode:
		return c.resolve(n)
	case *ast.StringNode:
		return operand{kind: KindString, isConst: true, str: x.Value, node: n}, nil
	case *ast.IntegerNode:
		return operand{kind: KindInt, isConst: true, i: int64(x.Value), node: n}, nil
	case *ast.FloatNode:
		return operand{kind: KindFloat, isConst: true, f: x.Value, node: n}, nil
	case *ast.BoolNode:
		return operand{kind: KindBool, isConst: true, b: x.Value, node: n}, nil
	case *ast.NilNode:
		return operand{isNil: true, node: n}, nil
	case *ast.UnaryNode:
		if x.Operator == "-" || x.Operator == "+" {
			o, err := c.value(x.Node)
			if err != nil {
				return o, err
			}
			if o.isConst && o.kind.numeric() {
				if x.Operator == "-" {
					o.i, o.f = -o.i, -o.f
				}
				o.node = n
				return o, nil
			}
			return operand{}, &unpushable{n, "arithmetic on fields is not pushed down"}
		}
		return operand{}, &unpushable{n, "a condition used as a value is not pushed down"}
	case *ast.BuiltinNode:
		return c.builtinValue(x)
	case *ast.CallNode:
		id := x.Callee.(*ast.IdentifierNode) // validate checked it
		if id.Value == "ip" {
			if len(x.Arguments) != 1 {
				return operand{}, c.errorAt(n, "ip takes one argument: ip(\"10.1.2.3\")")
			}
			s, ok := x.Arguments[0].(*ast.StringNode)
			if !ok {
				return operand{}, &unpushable{n, "ip() of a computed value is not pushed down"}
			}
			a, err := netip.ParseAddr(s.Value)
			if err != nil {
				return operand{}, c.errorf(s, "ip(%q): not an IP address: write 10.1.2.3 or 2001:db8::1", s.Value)
			}
			return operand{kind: KindIP, isConst: true, ip: a.Unmap(), node: n}, nil
		}
		if why, ok := residualFn[id.Value]; ok {
			return operand{}, &unpushable{n, id.Value + " " + why}
		}
		return operand{}, &unpushable{n, id.Value + "() is a condition, not a value"}
	case *ast.BinaryNode:
		if slices.Contains([]string{"+", "-", "*", "/", "%", "**", "^"}, x.Operator) {
			return operand{}, &unpushable{n, "arithmetic is not pushed down"}
		}
		return operand{}, &unpushable{n, "a condition used as a value is not pushed down"}
	case *ast.ConditionalNode:
		return operand{}, &unpushable{n, "conditional expressions (?: and if/else) are not pushed down"}
	}
	return operand{}, &unpushable{n, fmt.Sprintf("%T is not pushed down", n)}
}

func (c *compiler) builtinValue(n *ast.BuiltinNode) (operand, error) {
	switch n.Name {
	case "lower", "upper":
		if len(n.Arguments) != 1 {
			return operand{}, c.errorAt(n, "%s takes one argument", n.Name)
		}
		a, err := c.stringArg(n.Arguments[0], n.Name)
		if err != nil {
			return operand{}, err
		}
		return operand{kind: KindString, sql: n.Name + "UTF8(" + a + ")", node: n}, nil
	case "len":
		if len(n.Arguments) != 1 {
			return operand{}, c.errorAt(n, "len takes one argument")
		}
		a, err := c.value(n.Arguments[0])
		if err != nil {
			return operand{}, err
		}
		s, err := c.sql(a)
		if err != nil {
			return operand{}, err
		}
		switch a.kind {
		case KindString:
			return operand{kind: KindInt, sql: "lengthUTF8(" + s + ")", node: n}, nil
		case KindMap:
			return operand{kind: KindInt, sql: "length(" + s + ")", node: n}, nil
		}
		return operand{}, c.errorf(n, "len of a value of type %s: len takes a string or labels", a.kind)
	}
	return operand{}, &unpushable{n, n.Name + "() is not pushed down"}
}

// stringArg translates a node that must be a string.
func (c *compiler) stringArg(n ast.Node, what string) (string, error) {
	a, err := c.value(n)
	if err != nil {
		return "", err
	}
	if a.kind != KindString {
		t, _ := c.text(n)
		return "", c.errorf(n, "%s needs a string, but %s is of type %s", what, t, a.kind)
	}
	return c.sql(a)
}

var sqlOps = map[string]string{"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (c *compiler) compare(n *ast.BinaryNode) (string, error) {
	l, err := c.value(n.Left)
	if err != nil {
		return "", err
	}
	r, err := c.value(n.Right)
	if err != nil {
		return "", err
	}
	eq := n.Operator == "==" || n.Operator == "!="
	if l.isNil || r.isNil {
		f, other := l, r
		if l.isNil {
			f, other = r, l
		}
		if !eq || f.kind != KindIP || f.isConst {
			return "", c.errorf(other.node, "nil: only an address field compared with == or != nil (no address) means something; other fields always have a value (an absent one is \"\" or 0)")
		}
		// The events table stores an absent address as ::.
		return f.sql + " " + sqlOps[n.Operator] + " toIPv6('::')", nil
	}
	switch {
	case l.kind == KindIP || r.kind == KindIP:
		if !eq {
			return "", c.errorAt(n, "addresses can only be compared with == and != : use inCIDR(source.ip, \"10.0.0.0/8\") for ranges")
		}
		if l, err = c.asIP(l); err != nil {
			return "", err
		}
		if r, err = c.asIP(r); err != nil {
			return "", err
		}
	case l.kind == KindString && r.kind == KindString,
		l.kind.numeric() && r.kind.numeric(),
		l.kind == KindTime && r.kind == KindTime && !l.isConst && !r.isConst:
	case l.kind == KindBool && r.kind == KindBool:
		if !eq {
			return "", c.errorAt(n, "true and false can only be compared with == and !=")
		}
	default:
		lt, _ := c.text(n.Left)
		rt, _ := c.text(n.Right)
		return "", c.errorf(n, "cannot compare %s (%s) with %s (%s): compare a field with a constant of its type, e.g. destination.port == 22 or user.name == \"admin\"", lt, l.kind, rt, r.kind)
	}
	if n.Operator == "==" {
		c.noteZone(l, r)
		c.noteZone(r, l)
	}
	ls, err := c.sql(l)
	if err != nil {
		return "", err
	}
	rs, err := c.sql(r)
	if err != nil {
		return "", err
	}
	return ls + " " + sqlOps[n.Operator] + " " + rs, nil
}

// asIP turns a string constant compared with an address into an address, as the rule engine does.
func (c *compiler) asIP(o operand) (operand, error) {
	switch {
	case o.kind == KindIP:
		return o, nil
	case o.kind == KindString && o.isConst:
		a, err := netip.ParseAddr(o.str)
		if err != nil {
			return o, c.errorf(o.node, "%q is compared with an address but is not one: write an address such as 10.1.2.3, or use inCIDR() for a range", o.str)
		}
		return operand{kind: KindIP, isConst: true, ip: a.Unmap(), node: o.node}, nil
	}
	t, _ := c.text(o.node)
	return o, c.errorf(o.node, "%s (%s) is compared with an address: compare addresses with addresses or address constants", t, o.kind)
}

func (c *compiler) in(n *ast.BinaryNode) (string, error) {
	l, err := c.value(n.Left)
	if err != nil {
		return "", err
	}
	switch r := n.Right.(type) {
	case *ast.ArrayNode:
		if l.kind == KindIP {
			if l, err = c.asIP(l); err != nil {
				return "", err
			}
		}
		ls, err := c.sql(l)
		if err != nil {
			return "", err
		}
		var items []string
		for _, e := range r.Nodes {
			o, err := c.value(e)
			if err != nil {
				return "", err
			}
			if !o.isConst {
				return "", &unpushable{n, "in with a list of computed values is not pushed down: list constants"}
			}
			switch {
			case l.kind == KindIP:
				if o, err = c.asIP(o); err != nil {
					return "", err
				}
			case l.kind == o.kind, l.kind.numeric() && o.kind.numeric():
			default:
				t, _ := c.text(e)
				lt, _ := c.text(n.Left)
				return "", c.errorf(e, "%s (%s) is in a list tested against %s (%s)", t, o.kind, lt, l.kind)
			}
			c.noteZone(l, o)
			s, err := c.sql(o)
			if err != nil {
				return "", err
			}
			items = append(items, s)
		}
		if len(items) == 0 {
			return "false", nil
		}
		return ls + " IN (" + strings.Join(items, ", ") + ")", nil
	case *ast.BinaryNode:
		if r.Operator != ".." {
			break
		}
		lo, err1 := c.value(r.Left)
		hi, err2 := c.value(r.Right)
		if err := errors.Join(err1, err2); err != nil {
			return "", err
		}
		if !lo.isConst || !hi.isConst || lo.kind != KindInt || hi.kind != KindInt {
			return "", &unpushable{n, "a range of computed values is not pushed down"}
		}
		if !l.kind.numeric() {
			return "", c.errorf(n, "a range of integers tested against a value of type %s", l.kind)
		}
		if lo.i > hi.i {
			return "false", nil
		}
		ls, err := c.sql(l)
		if err != nil {
			return "", err
		}
		los, err := c.sql(lo)
		if err != nil {
			return "", err
		}
		his, err := c.sql(hi)
		if err != nil {
			return "", err
		}
		return ls + " BETWEEN " + los + " AND " + his, nil
	}
	ro, err := c.value(n.Right)
	if err != nil {
		return "", err
	}
	if ro.kind == KindMap {
		if l.kind != KindString {
			return "", c.errorf(n, "labels are keyed by strings: write \"policyid\" in labels")
		}
		ls, err := c.sql(l)
		if err != nil {
			return "", err
		}
		return "mapContains(labels, " + ls + ")", nil
	}
	t, _ := c.text(n.Right)
	return "", c.errorf(n.Right, "in needs a list such as [22, 3389], a range such as 1..1024, or labels; %s is of type %s", t, ro.kind)
}

func (c *compiler) stringOp(n *ast.BinaryNode) (string, error) {
	l, err := c.stringArg(n.Left, n.Operator)
	if err != nil {
		return "", err
	}
	if n.Operator == "matches" {
		return c.match(n, l, n.Right)
	}
	if l == "message" {
		if r, err := c.value(n.Right); err == nil && r.isConst && r.kind == KindString && textFree(r.str) {
			p, err := c.sql(r)
			if err != nil {
				return "", err
			}
			a := anchors{start: n.Operator == "startsWith", end: n.Operator == "endsWith"}
			return messageMatch(n.Operator, p, a), nil
		}
	}
	r, err := c.stringArg(n.Right, n.Operator)
	if err != nil {
		return "", err
	}
	switch n.Operator {
	case "contains":
		return "position(" + l + ", " + r + ") > 0", nil
	case "startsWith":
		return "startsWith(" + l + ", " + r + ")", nil
	default:
		return "endsWith(" + l + ", " + r + ")", nil
	}
}

// match translates a regular-expression match. Go's and ClickHouse's RE2 share a syntax, but in
// ClickHouse "." also matches a line break: (?-s) restores Go's meaning.
func (c *compiler) match(n ast.Node, l string, pat ast.Node) (string, error) {
	s, ok := pat.(*ast.StringNode)
	if !ok {
		return "", &unpushable{n, "a computed regular expression is not pushed down: write the pattern as a string"}
	}
	if _, err := regexp.Compile(s.Value); err != nil {
		return "", c.errorf(s, "regular expression %q does not compile: %v", s.Value, err)
	}
	p, err := c.param(s, "String", "(?-s)"+s.Value)
	if err != nil {
		return "", err
	}
	if a, ok := regexpAnchors(s.Value); ok && l == "message" {
		return messageMatch("match", p, a), nil
	}
	return "match(" + l + ", " + p + ")", nil
}

func (c *compiler) builtinCond(n *ast.BuiltinNode) (string, error) {
	switch n.Name {
	case "hasPrefix", "hasSuffix":
		if len(n.Arguments) != 2 {
			return "", c.errorAt(n, "%s takes two arguments: %s(s, prefix)", n.Name, n.Name)
		}
		a, err := c.stringArg(n.Arguments[0], n.Name)
		if err != nil {
			return "", err
		}
		b, err := c.stringArg(n.Arguments[1], n.Name)
		if err != nil {
			return "", err
		}
		f := "startsWith"
		if n.Name == "hasSuffix" {
			f = "endsWith"
		}
		return f + "(" + a + ", " + b + ")", nil
	}
	if _, err := c.builtinValue(n); err != nil {
		return "", err
	}
	t, _ := c.text(n)
	return "", c.errorf(n, "%s is not a condition: compare it, e.g. %s > 0", t, t)
}

func (c *compiler) call(n *ast.CallNode) (string, error) {
	name := n.Callee.(*ast.IdentifierNode).Value
	switch name {
	case "inCIDR":
		if len(n.Arguments) < 2 {
			return "", c.errorAt(n, "inCIDR takes an address and one or more ranges: inCIDR(source.ip, \"10.0.0.0/8\")")
		}
		a, err := c.ipArg(n, n.Arguments[0])
		if err != nil {
			return "", err
		}
		var ranges []netip.Prefix
		for _, arg := range n.Arguments[1:] {
			s, ok := arg.(*ast.StringNode)
			if !ok {
				return "", &unpushable{n, "inCIDR with a computed range is not pushed down: write the range as a string"}
			}
			p, err := parsePrefix(s.Value)
			if err != nil {
				return "", c.errorf(s, "inCIDR: %v", err)
			}
			ranges = append(ranges, p)
		}
		return c.inRanges(n, a, ranges)
	case "isPrivate":
		if len(n.Arguments) != 1 {
			return "", c.errorAt(n, "isPrivate takes one address: isPrivate(destination.ip)")
		}
		a, err := c.ipArg(n, n.Arguments[0])
		if err != nil {
			return "", err
		}
		return c.inRanges(n, a, privateRanges)
	case "regex":
		if len(n.Arguments) != 2 {
			return "", c.errorAt(n, "regex takes a string and a pattern: regex(user.name, \"^adm\")")
		}
		l, err := c.stringArg(n.Arguments[0], "regex")
		if err != nil {
			return "", err
		}
		return c.match(n, l, n.Arguments[1])
	case "in_list":
		return c.inList(n)
	case "ip":
		return "", c.errorf(n, "ip(…) is an address, not a condition: compare it, e.g. source.ip == ip(\"10.1.2.3\")")
	}
	_, err := c.value(n)
	return "", err
}

// ipArg translates an address argument; a text field is not pushed down (the rule engine parses
// it per event).
func (c *compiler) ipArg(call, n ast.Node) (string, error) {
	o, err := c.value(n)
	if err != nil {
		return "", err
	}
	if o.kind == KindString && o.isConst {
		if o, err = c.asIP(o); err != nil {
			return "", err
		}
	}
	if o.kind != KindIP {
		if o.kind == KindString {
			return "", &unpushable{call, "testing the address in a text field is not pushed down: use an address field (source.ip, destination.ip, observer.ip)"}
		}
		t, _ := c.text(n)
		return "", c.errorf(n, "%s is of type %s, not an address", t, o.kind)
	}
	return c.sql(o)
}

var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
}

// parsePrefix reads a CIDR range or a single address the way the rule engine does.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return p, fmt.Errorf("%q is not a CIDR range: write it as 10.0.0.0/8 or 2001:db8::/32", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR range: write 10.1.2.3 or 10.0.0.0/8", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Addresses as stored: IPv4 as IPv4-mapped IPv6, an absent address as ::.
var (
	mappedLo = netip.MustParseAddr("::ffff:0.0.0.0")
	mappedHi = netip.MustParseAddr("::ffff:255.255.255.255")
	zero     = netip.IPv6Unspecified()
)

// spans returns the ranges of stored addresses that hold exactly the addresses the rule engine
// finds in p: an IPv4 range holds only IPv4 addresses and an IPv6 range only IPv6 ones (so the
// IPv4-mapped block is cut out of IPv6 ranges), and no range holds an absent address (::).
func spans(p netip.Prefix) [][2]netip.Addr {
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	lo := netip.AddrFrom16(p.Addr().As16())
	b := lo.As16()
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	hi := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		return [][2]netip.Addr{{lo, hi}}
	}
	var out [][2]netip.Addr
	add := func(a, z netip.Addr) {
		if a == zero {
			a = a.Next()
		}
		if a.IsValid() && z.IsValid() && a.Compare(z) <= 0 {
			out = append(out, [2]netip.Addr{a, z})
		}
	}
	if hi.Less(mappedLo) || mappedHi.Less(lo) { // no overlap with the IPv4-mapped block
		add(lo, hi)
		return out
	}
	if lo.Less(mappedLo) {
		add(lo, mappedLo.Prev())
	}
	if mappedHi.Less(hi) {
		add(mappedHi.Next(), hi)
	}
	return out
}

// inRanges tests an address column against ranges.
func (c *compiler) inRanges(n ast.Node, a string, ranges []netip.Prefix) (string, error) {
	var parts []string
	for _, p := range ranges {
		for _, sp := range spans(p) {
			lo, err := c.param(n, "IPv6", sp[0].String())
			if err != nil {
				return "", err
			}
			if sp[0] == sp[1] {
				parts = append(parts, a+" = "+lo)
				continue
			}
			hi, err := c.param(n, "IPv6", sp[1].String())
			if err != nil {
				return "", err
			}
			parts = append(parts, a+" BETWEEN "+lo+" AND "+hi)
		}
	}
	switch len(parts) {
	case 0:
		return "false", nil
	case 1:
		return parts[0], nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", nil
}

// noteZone records a zone the filter asks for: a zone field compared with a constant.
func (c *compiler) noteZone(f, v operand) {
	if f.field != nil && strings.HasSuffix(f.field.Column, "_zone") && v.isConst && v.kind == KindString {
		c.zones[v.str] = true
	}
}
