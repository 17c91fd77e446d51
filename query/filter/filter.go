// Package filter compiles zonewatch filters to parameterised ClickHouse WHERE clauses.
//
// A filter is an expr expression (https://expr-lang.org) over the normalised event with its ECS
// names, the same language rule conditions are written in:
//
//	source.zone == "mynumber" && destination.zone != "mynumber"
//	url.domain endsWith ".example" and not event.cross_zone
//	destination.port in [22, 3389] or inCIDR(source.ip, "10.10.0.0/16")
//
// The compiler walks expr's syntax tree and emits SQL whose identifiers come only from a fixed
// field table (fields.go) and whose every constant is a server-side query parameter ({f1:String}):
// no text of the filter ever reaches the SQL. A part that ClickHouse cannot evaluate the way the
// rule engine does (offHours, zoneOf, entropy …) is a Residual: the WHERE is then a superset of
// the filter's matches (the part counts as true where that widens the result) and the caller
// either evaluates the residual on the returned events or refuses it (Options.Strict).
package filter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// Default limits.
const (
	DefaultMaxLength = 8 << 10
	DefaultMaxDepth  = 64
	DefaultMaxParams = 256
)

// Options configures Compile. Zero values pick the documented defaults.
type Options struct {
	// Strict refuses filters with parts that cannot be evaluated in ClickHouse, naming the part,
	// instead of returning them as Residuals.
	Strict bool
	// MaxLength bounds the filter's length in bytes; default DefaultMaxLength.
	MaxLength int
	// MaxDepth bounds the nesting of the expression (a chain of the same and/or counts once);
	// default DefaultMaxDepth.
	MaxDepth int
	// MaxParams bounds the number of query parameters the filter turns into; default DefaultMaxParams.
	MaxParams int
	// ParamPrefix prefixes the parameter names (f1, f2 …), so that a query may bind its own
	// parameters beside the filter's; default "f". It must be a plain identifier.
	ParamPrefix string
	// Lists resolves the named lists of in_list(value, "name"); nil means no list is known.
	Lists Lists
	// Macros are named conditions (the rule files' macros): a macro's name in a filter stands
	// for its condition as one parenthesised operand.
	Macros map[string]string
}

func (o Options) withDefaults() Options {
	if o.MaxLength <= 0 {
		o.MaxLength = DefaultMaxLength
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxParams <= 0 {
		o.MaxParams = DefaultMaxParams
	}
	if o.ParamPrefix == "" {
		o.ParamPrefix = "f"
	}
	return o
}

// Lists gives the items of the named lists filters may test with in_list. rules.List satisfies
// the per-list part (Kind, Items) of it through a small adapter.
type Lists interface {
	// List returns the kind (ip, domain, string, map) and the items of the named list. Items of ip
	// lists are addresses or CIDR ranges; items of map lists are "key = value".
	List(name string) (kind string, items []string, ok bool)
}

// Param is one server-side query parameter: {Name:Type} in the SQL, bound to Value.
type Param struct {
	Name  string
	Type  string // ClickHouse type: String, Int64, Float64, IPv6, Array(String) …
	Value any    // string, int64, float64 or []string
}

// Residual is a part of the filter that the WHERE does not evaluate.
type Residual struct {
	Expr   string   `json:"expr"`   // its source text
	Pos    Position `json:"pos"`    // where it starts
	Reason string   `json:"reason"` // why it cannot be pushed down
}

// Position is a place in a filter: Offset counts characters (runes) from 0; Line and Column
// count from 1.
type Position struct {
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (p Position) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Column) }

// Error is a filter that does not compile: Pos says where, Msg what to do.
type Error struct {
	Filter string
	Pos    Position
	Msg    string
	// Limit is set when the filter is over a limit of Options (length, depth, parameters).
	Limit bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("filter %s: %s", e.Pos, e.Msg)
}

// Compiled is a compiled filter.
type Compiled struct {
	// Source is the filter as given.
	Source string
	// Where is a ClickHouse boolean expression over the events table's columns; "true" for an
	// empty filter. With Residuals, it selects a superset of the filter's matches.
	Where string
	// Params are the parameters the Where refers to.
	Params []Param
	// Residuals are the parts of the filter that Where does not evaluate.
	Residuals []Residual
	// Columns are the events columns the filter reads (sorted), for choosing a table that has them.
	Columns []string
	// Zones are the zones the filter asks for by equality (source.zone == "lgwan", observer.zone in
	// […]), sorted, so that a caller can refuse zones outside a user's scope with a clear error.
	// Scopes are still enforced by the WHERE, never by this list alone.
	Zones []string
}

// Exact reports whether Where selects exactly the filter's matches.
func (c *Compiled) Exact() bool { return len(c.Residuals) == 0 }

// Args returns the parameters as clickhouse-go named arguments, for conn.Query(ctx, sql, args...).
func (c *Compiled) Args() []any {
	out := make([]any, len(c.Params))
	for i, p := range c.Params {
		out[i] = clickhouse.Named(p.Name, p.Value)
	}
	return out
}

// Compile compiles a filter. An empty (or blank) filter matches every event.
func Compile(src string, opts Options) (*Compiled, error) {
	opts = opts.withDefaults()
	if !isIdent(opts.ParamPrefix) {
		return nil, fmt.Errorf("filter: Options.ParamPrefix %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", opts.ParamPrefix)
	}
	if len(src) > opts.MaxLength {
		return nil, &Error{Filter: src, Pos: Position{Offset: 0, Line: 1, Column: 1}, Limit: true,
			Msg: fmt.Sprintf("the filter is %d bytes long, more than the limit of %d: shorten it, or put long lists of values in a named list and use in_list", len(src), opts.MaxLength)}
	}
	if !utf8.ValidString(src) {
		return nil, &Error{Filter: src, Pos: Position{Line: 1, Column: 1}, Msg: "the filter is not valid UTF-8 text"}
	}
	out := &Compiled{Source: src, Where: "true"}
	if strings.TrimSpace(src) == "" {
		return out, nil
	}
	cfg := conf.CreateNew()
	cfg.MaxNodes = uint(opts.MaxLength) // a node takes at least one byte of text
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, newError(src, fe.From, "does not parse: %s", fe.Message)
		}
		return nil, &Error{Filter: src, Pos: Position{Line: 1, Column: 1}, Msg: "does not parse: " + err.Error()}
	}
	c := &compiler{src: src, runes: []rune(src), opts: opts, columns: map[string]bool{}, zones: map[string]bool{}}
	if err := c.expandMacros(&tree.Node); err != nil {
		return nil, err
	}
	if err := c.validate(tree.Node, 1); err != nil {
		return nil, err
	}
	where, err := c.cond(tree.Node, false)
	if err != nil {
		return nil, err
	}
	out.Where, out.Params, out.Residuals = where, c.params, c.residuals
	out.Columns, out.Zones = sortedKeys(c.columns), sortedKeys(c.zones)
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// newError makes an Error at a rune offset of src.
func newError(src string, offset int, format string, a ...any) *Error {
	return &Error{Filter: src, Pos: position(src, offset), Msg: fmt.Sprintf(format, a...)}
}

func position(src string, offset int) Position {
	p := Position{Offset: offset, Line: 1, Column: 1}
	n := 0
	for _, r := range src {
		if n == offset {
			break
		}
		if r == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
		n++
	}
	return p
}

// span returns the rune range [from, to) of the source text of n: its tokens, widened to close
// the brackets it opens.
func (c *compiler) span(n ast.Node) (int, int) {
	v := &spanVisitor{from: len(c.runes), to: 0}
	ast.Walk(&n, v)
	from, to := min(v.from, len(c.runes)), min(max(v.to, v.from), len(c.runes))
	// Close brackets opened inside the span (a call's closing parenthesis has no node).
	depth, inStr := 0, rune(0)
	for i := from; i < to; i++ {
		r := c.runes[i]
		switch {
		case inStr != 0:
			if r == '\\' {
				i++
			} else if r == inStr {
				inStr = 0
			}
		case r == '"' || r == '\'' || r == '`':
			inStr = r
		case r == '(' || r == '[':
			depth++
		case r == ')' || r == ']':
			depth--
		}
	}
	for to < len(c.runes) && depth > 0 {
		r := c.runes[to]
		to++
		switch r {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		}
	}
	return from, to
}

type spanVisitor struct{ from, to int }

func (v *spanVisitor) Visit(n *ast.Node) {
	loc := (*n).Location()
	v.from = min(v.from, loc.From)
	v.to = max(v.to, loc.To)
}

func (c *compiler) text(n ast.Node) (string, int) {
	from, to := c.span(n)
	return strings.TrimSpace(string(c.runes[from:to])), from
}
