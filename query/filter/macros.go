package filter

import (
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// expandMacros replaces each identifier naming a macro (Options.Macros, the rule files' macros)
// with the macro's condition as one operand, on the syntax tree, as the rule engine does. The
// expanded nodes take the identifier's position, so errors and residuals inside a macro point
// at its name.
func (c *compiler) expandMacros(root *ast.Node) error {
	if len(c.opts.Macros) == 0 {
		return nil
	}
	v := &macroExpander{c: c}
	ast.Walk(root, v)
	return v.err
}

type macroExpander struct {
	c     *compiler
	stack []string
	err   error
}

func (v *macroExpander) Visit(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok || v.err != nil {
		return
	}
	cond, ok := v.c.opts.Macros[id.Value]
	if !ok {
		return
	}
	if _, isField := LookupField(id.Value); isField || isGroup(id.Value) {
		return
	}
	if slices.Contains(v.stack, id.Value) {
		v.err = v.c.errorAt(id, "macro %q refers to itself (%s): break the cycle", id.Value, strings.Join(append(v.stack, id.Value), " → "))
		return
	}
	tree, err := parser.Parse(cond)
	if err != nil {
		v.err = v.c.errorAt(id, "macro %q does not parse: %v", id.Value, err)
		return
	}
	sub := &macroExpander{c: v.c, stack: append(slices.Clone(v.stack), id.Value)}
	ast.Walk(&tree.Node, sub)
	if sub.err != nil {
		v.err = sub.err
		return
	}
	ast.Walk(&tree.Node, relocate{id.Location()})
	ast.Patch(node, tree.Node)
}

type relocate struct{ loc file.Location }

func (r relocate) Visit(n *ast.Node) { (*n).SetLocation(r.loc) }
