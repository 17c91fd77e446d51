package rules

import (
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"

	"github.com/zonewatch/zonewatch/internal/event"
)

// A condition's top-level "and" operands that compare an event field with constants are also compiled
// to plain Go predicates. They run first, without the expression VM and without boxing field values,
// so most non-matching rules are rejected in a few nanoseconds; when every operand is such a
// comparison the VM is not run at all. They are necessary conditions of the expression, so the result
// is the same either way (TestNativeAgreesWithVM checks it).

type predicate func(e *event.Event) bool

var stringFields = map[string]func(e *event.Event) string{
	"id":                func(e *event.Event) string { return e.ID },
	"message":           func(e *event.Event) string { return e.Message },
	"event.module":      func(e *event.Event) string { return e.Meta.Module },
	"event.category":    func(e *event.Event) string { return e.Meta.Category },
	"event.action":      func(e *event.Event) string { return e.Meta.Action },
	"event.outcome":     func(e *event.Event) string { return e.Meta.Outcome },
	"observer.hostname": func(e *event.Event) string { return e.Observer.Hostname },
	"observer.zone":     func(e *event.Event) string { return e.Observer.Zone },
	"source.zone":       func(e *event.Event) string { return e.Source.Zone },
	"source.host":       func(e *event.Event) string { return e.Source.Host },
	"destination.zone":  func(e *event.Event) string { return e.Destination.Zone },
	"destination.host":  func(e *event.Event) string { return e.Destination.Host },
	"network.transport": func(e *event.Event) string { return e.Network.Transport },
	"network.protocol":  func(e *event.Event) string { return e.Network.Protocol },
	"user.name":         func(e *event.Event) string { return e.User.Name },
	"url.original":      func(e *event.Event) string { return e.URL.Original },
	"url.domain":        func(e *event.Event) string { return e.URL.Domain },
	"url.category":      func(e *event.Event) string { return e.URL.Category },
	"http.method":       func(e *event.Event) string { return e.HTTP.Method },
	"http.user_agent":   func(e *event.Event) string { return e.HTTP.UserAgent },
	"process.name":      func(e *event.Event) string { return e.Process.Name },
	"log.listener":      func(e *event.Event) string { return e.Log.Listener },
	"log.parse_status":  func(e *event.Event) string { return e.Log.ParseStatus },
	"log.parse_error":   func(e *event.Event) string { return e.Log.ParseError },
}

var numberFields = map[string]func(e *event.Event) int64{
	"source.port":      func(e *event.Event) int64 { return int64(e.Source.Port) },
	"source.bytes":     func(e *event.Event) int64 { return int64(e.Source.Bytes) },
	"destination.port": func(e *event.Event) int64 { return int64(e.Destination.Port) },
	"destination.bytes": func(e *event.Event) int64 {
		return int64(e.Destination.Bytes)
	},
	"http.status":    func(e *event.Event) int64 { return int64(e.HTTP.Status) },
	"event.severity": func(e *event.Event) int64 { return int64(e.Meta.Severity) },
	"log.facility":   func(e *event.Event) int64 { return int64(e.Log.Facility) },
}

// natives returns the Go predicates of the top-level conjuncts it can compile, and whether it compiled
// all of them.
func (c *exprCompiler) natives(n ast.Node) ([]int, bool) {
	var out []int
	all := true
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
			walk(b.Left)
			walk(b.Right)
			return
		}
		if p := c.native(n); p != nil {
			key := n.String()
			i, ok := c.predIdx[key]
			if !ok {
				i = len(c.preds)
				c.preds = append(c.preds, p)
				c.predIdx[key] = i
			}
			out = append(out, i)
		} else {
			all = false
		}
	}
	walk(n)
	return out, all
}

var addrFields = map[string]func(e *event.Event) netip.Addr{
	"source.ip":      func(e *event.Event) netip.Addr { return e.Source.IP },
	"destination.ip": func(e *event.Event) netip.Addr { return e.Destination.IP },
	"observer.ip":    func(e *event.Event) netip.Addr { return e.Observer.IP },
}

// native compiles a boolean expression to a Go predicate, or returns nil when it cannot.
func (c *exprCompiler) native(n ast.Node) predicate {
	switch x := n.(type) {
	case *ast.UnaryNode:
		if x.Operator == "not" || x.Operator == "!" {
			if p := c.native(x.Node); p != nil {
				return func(e *event.Event) bool { return !p(e) }
			}
		}
	case *ast.CallNode:
		return c.nativeCall(x)
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and":
			a, b := c.native(x.Left), c.native(x.Right)
			if a != nil && b != nil {
				return func(e *event.Event) bool { return a(e) && b(e) }
			}
			return nil
		case "||", "or":
			a, b := c.native(x.Left), c.native(x.Right)
			if a != nil && b != nil {
				return func(e *event.Event) bool { return a(e) || b(e) }
			}
			return nil
		}
		l, r := x.Left, x.Right
		op := x.Operator
		if _, ok := l.(*ast.StringNode); ok {
			l, r = r, l
		} else if _, ok := constNumber(l); ok {
			l, r = r, l
			op = mirror(op)
		}
		if get := c.stringExpr(l); get != nil {
			switch rv := r.(type) {
			case *ast.StringNode:
				v := rv.Value
				switch op {
				case "==":
					return func(e *event.Event) bool { return get(e) == v }
				case "!=":
					return func(e *event.Event) bool { return get(e) != v }
				case "startsWith":
					return func(e *event.Event) bool { return strings.HasPrefix(get(e), v) }
				case "endsWith":
					return func(e *event.Event) bool { return strings.HasSuffix(get(e), v) }
				case "contains":
					return func(e *event.Event) bool { return strings.Contains(get(e), v) }
				}
			case *ast.ArrayNode:
				if op != "in" {
					return nil
				}
				var vals []string
				for _, el := range rv.Nodes {
					s, ok := el.(*ast.StringNode)
					if !ok {
						return nil
					}
					vals = append(vals, s.Value)
				}
				return func(e *event.Event) bool { return slices.Contains(vals, get(e)) }
			default:
				if other := c.stringExpr(r); other != nil {
					switch op {
					case "==":
						return func(e *event.Event) bool { return get(e) == other(e) }
					case "!=":
						return func(e *event.Event) bool { return get(e) != other(e) }
					}
				}
			}
		}
		if get := c.numberExpr(l); get != nil {
			v, ok := constNumber(r)
			if !ok {
				return nil
			}
			switch op {
			case "==":
				return func(e *event.Event) bool { return get(e) == v }
			case "!=":
				return func(e *event.Event) bool { return get(e) != v }
			case "<":
				return func(e *event.Event) bool { return get(e) < v }
			case "<=":
				return func(e *event.Event) bool { return get(e) <= v }
			case ">":
				return func(e *event.Event) bool { return get(e) > v }
			case ">=":
				return func(e *event.Event) bool { return get(e) >= v }
			}
		}
		if get, ok := addrFields[memberPath(l)]; ok {
			if cn, ok := r.(*ast.ConstantNode); ok {
				if a, ok := cn.Value.(netip.Addr); ok {
					switch op {
					case "==":
						return func(e *event.Event) bool { return get(e).Unmap() == a }
					case "!=":
						return func(e *event.Event) bool { return get(e).Unmap() != a }
					}
				}
			}
		}
	}
	return nil
}

// stringExpr compiles a string-valued expression: a string field, or a call of hostRole or lookup on
// one.
func (c *exprCompiler) stringExpr(n ast.Node) func(e *event.Event) string {
	if get, ok := stringFields[memberPath(n)]; ok {
		return get
	}
	if b, ok := n.(*ast.BuiltinNode); ok && len(b.Arguments) == 1 && (b.Name == "lower" || b.Name == "upper") {
		arg := c.stringExpr(b.Arguments[0])
		if arg == nil {
			return nil
		}
		if b.Name == "lower" {
			return func(e *event.Event) string { return strings.ToLower(arg(e)) }
		}
		return func(e *event.Event) string { return strings.ToUpper(arg(e)) }
	}
	call, ok := n.(*ast.CallNode)
	if !ok {
		return nil
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	switch {
	case (id.Value == "subdomain" || id.Value == "registeredDomain" || id.Value == "domainOf") && len(call.Arguments) == 1:
		arg := c.stringExpr(call.Arguments[0])
		if arg == nil {
			return nil
		}
		fn := map[string]func(string) string{"subdomain": subdomain, "registeredDomain": registeredDomain, "domainOf": hostOf}[id.Value]
		return func(e *event.Event) string { return fn(arg(e)) }
	case id.Value == "hostRole" && len(call.Arguments) == 1:
		arg := c.stringExpr(call.Arguments[0])
		if arg == nil {
			return nil
		}
		f := c.f
		hostRoles := f.lists["host_roles"]
		return func(e *event.Event) string {
			name := arg(e)
			if name == "" {
				return ""
			}
			if r, ok := f.roles[name]; ok {
				return r
			}
			if hostRoles != nil {
				return hostRoles.Lookup(name)
			}
			return ""
		}
	case id.Value == "lookup" && len(call.Arguments) == 2:
		name, ok := call.Arguments[0].(*ast.StringNode)
		arg := c.stringExpr(call.Arguments[1])
		l := c.f.lists[name.Value]
		if !ok || arg == nil || l == nil {
			return nil
		}
		return func(e *event.Event) string { return l.Lookup(arg(e)) }
	}
	return nil
}

// nativeCall compiles in_list and inCIDR calls with constant lists and ranges.
func (c *exprCompiler) nativeCall(call *ast.CallNode) predicate {
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || len(call.Arguments) < 2 {
		return nil
	}
	switch id.Value {
	case "addrEq", "addrNe":
		get, ok := addrFields[memberPath(call.Arguments[0])]
		cn, ok2 := call.Arguments[1].(*ast.ConstantNode)
		if !ok || !ok2 {
			return nil
		}
		a, ok := cn.Value.(netip.Addr)
		if !ok {
			return nil
		}
		if id.Value == "addrEq" {
			return func(e *event.Event) bool { return get(e).Unmap() == a }
		}
		return func(e *event.Event) bool { return get(e).Unmap() != a }
	case "in_list":
		name, ok := call.Arguments[1].(*ast.StringNode)
		if !ok || c.f.lists[name.Value] == nil {
			return nil
		}
		l := c.f.lists[name.Value]
		if get, ok := addrFields[memberPath(call.Arguments[0])]; ok {
			return func(e *event.Event) bool { return l.Contains(get(e)) }
		}
		if get := c.stringExpr(call.Arguments[0]); get != nil {
			return func(e *event.Event) bool { return l.Contains(get(e)) }
		}
	case "inCIDR":
		get, ok := addrFields[memberPath(call.Arguments[0])]
		if !ok {
			return nil
		}
		var ps []netip.Prefix
		for _, a := range call.Arguments[1:] {
			s, ok := a.(*ast.StringNode)
			if !ok {
				return nil
			}
			p, err := parsePrefix(s.Value)
			if err != nil {
				return nil
			}
			ps = append(ps, p)
		}
		return func(e *event.Event) bool {
			a := get(e)
			if !a.IsValid() {
				return false
			}
			a = a.Unmap()
			for _, p := range ps {
				if p.Contains(a) {
					return true
				}
			}
			return false
		}
	}
	return nil
}

func mirror(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// numberExpr compiles a numeric expression: a number field, or len, entropy or secondsBetween of
// natively compiled arguments.
func (c *exprCompiler) numberExpr(n ast.Node) func(e *event.Event) float64 {
	if get, ok := numberFields[memberPath(n)]; ok {
		return func(e *event.Event) float64 { return float64(get(e)) }
	}
	if b, ok := n.(*ast.BuiltinNode); ok && b.Name == "len" && len(b.Arguments) == 1 {
		if arg := c.stringExpr(b.Arguments[0]); arg != nil {
			return func(e *event.Event) float64 { return float64(utf8.RuneCountInString(arg(e))) }
		}
	}
	call, ok := n.(*ast.CallNode)
	if !ok {
		return nil
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	switch {
	case id.Value == "entropy" && len(call.Arguments) == 1:
		if arg := c.stringExpr(call.Arguments[0]); arg != nil {
			return func(e *event.Event) float64 { return entropy(arg(e)) }
		}
	case id.Value == "secondsBetween" && len(call.Arguments) == 2:
		a, b := timeFields[memberPath(call.Arguments[0])], timeFields[memberPath(call.Arguments[1])]
		if a != nil && b != nil {
			return func(e *event.Event) float64 { return secondsBetween(a(e), b(e)) }
		}
	}
	return nil
}

var timeFields = map[string]func(e *event.Event) time.Time{
	"timestamp":      func(e *event.Event) time.Time { return e.Timestamp },
	"event.ingested": func(e *event.Event) time.Time { return e.Meta.Ingested },
}

// constNumber evaluates a numeric constant.
func constNumber(n ast.Node) (float64, bool) {
	if f, ok := n.(*ast.FloatNode); ok {
		return f.Value, true
	}
	v, ok := constInt(n)
	return float64(v), ok
}

// constInt evaluates an integer constant, including products and sums of constants (50 * 1024 * 1024).
func constInt(n ast.Node) (int64, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return int64(x.Value), true
	case *ast.UnaryNode:
		if x.Operator == "-" {
			v, ok := constInt(x.Node)
			return -v, ok
		}
	case *ast.BinaryNode:
		a, ok1 := constInt(x.Left)
		b, ok2 := constInt(x.Right)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch x.Operator {
		case "*":
			return a * b, true
		case "+":
			return a + b, true
		case "-":
			return a - b, true
		}
	}
	return 0, false
}

// matches evaluates a compiled condition: the Go predicates first, the VM when they do not decide.
func (c *compiled) matches(e *Engine, ev *event.Event) (bool, error) {
	for _, i := range c.natives {
		if !e.pred(i, ev) {
			return false, nil
		}
	}
	if c.nativeOnly {
		return true, nil
	}
	return e.run(c.program, ev)
}

// pred evaluates shared predicate i for the event being evaluated, once per event.
func (e *Engine) pred(i int, ev *event.Event) bool {
	if i < len(e.memoEpoch) {
		if e.memoEpoch[i] == e.epoch {
			return e.memoVal[i]
		}
		v := e.preds[i](ev)
		e.memoEpoch[i], e.memoVal[i] = e.epoch, v
		return v
	}
	return e.rules.comp.preds[i](ev)
}
