package filter

import (
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// List kinds, as the rule engine names them.
const (
	ListIP     = "ip"
	ListDomain = "domain"
	ListString = "string"
	ListMap    = "map"
)

// MapLists is a Lists held in memory: name → kind and items.
type MapLists map[string]StaticList

// StaticList is one list of a MapLists.
type StaticList struct {
	Kind  string
	Items []string
}

// List implements Lists.
func (m MapLists) List(name string) (string, []string, bool) {
	l, ok := m[name]
	return l.Kind, l.Items, ok
}

// inList translates in_list(value, "name") with the list's items bound as array parameters, with
// the rule engine's semantics: ip lists hold addresses and ranges, domain lists match a domain and
// its subdomains (case-insensitively), string lists match exactly, map lists match their keys.
func (c *compiler) inList(n *ast.CallNode) (string, error) {
	if len(n.Arguments) != 2 {
		return "", c.errorAt(n, "in_list takes a value and a list name: in_list(destination.ip, \"approved\")")
	}
	nameNode, ok := n.Arguments[1].(*ast.StringNode)
	if !ok {
		return "", &unpushable{n, "in_list with a computed list name is not pushed down"}
	}
	var (
		kind  string
		items []string
	)
	if c.opts.Lists != nil {
		kind, items, ok = c.opts.Lists.List(nameNode.Value)
	}
	if !ok {
		return "", c.errorf(nameNode, "in_list: no list named %q is known to queries: define it in the rules' lists", nameNode.Value)
	}
	v, err := c.value(n.Arguments[0])
	if err != nil {
		return "", err
	}
	switch kind {
	case ListIP:
		if v.kind == KindString && v.isConst {
			if v, err = c.asIP(v); err != nil {
				return "", err
			}
		}
		if v.kind != KindIP {
			return "", &unpushable{n, "in_list of an ip list with a text value is not pushed down: test an address field"}
		}
		a, err := c.sql(v)
		if err != nil {
			return "", err
		}
		var los, his []string
		for _, it := range items {
			p, err := parsePrefix(it)
			if err != nil {
				continue // the rule engine refuses such a list when it loads
			}
			for _, sp := range spans(p) {
				los, his = append(los, sp[0].String()), append(his, sp[1].String())
			}
		}
		if len(los) == 0 {
			return "false", nil
		}
		lp, err := c.param(nameNode, "Array(IPv6)", los)
		if err != nil {
			return "", err
		}
		hp, err := c.param(nameNode, "Array(IPv6)", his)
		if err != nil {
			return "", err
		}
		return "arrayExists((lo, hi) -> " + a + " BETWEEN lo AND hi, " + lp + ", " + hp + ")", nil
	case ListDomain:
		if v.kind != KindString {
			return "", c.errorf(n.Arguments[0], "in_list: list %q holds domains, tested with a value of type %s", nameNode.Value, v.kind)
		}
		s, err := c.sql(v)
		if err != nil {
			return "", err
		}
		var exact, suffixes []string
		for _, it := range items {
			d := strings.ToLower(strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(it), "."), "*."))
			if d == "" {
				continue
			}
			exact, suffixes = append(exact, d), append(suffixes, "."+d)
		}
		if len(exact) == 0 {
			return "false", nil
		}
		ep, err := c.param(nameNode, "Array(String)", exact)
		if err != nil {
			return "", err
		}
		sp, err := c.param(nameNode, "Array(String)", suffixes)
		if err != nil {
			return "", err
		}
		d := "lowerUTF8(if(endsWith(" + s + ", '.'), substring(" + s + ", 1, length(" + s + ") - 1), " + s + "))"
		return "(has(" + ep + ", " + d + ") OR arrayExists(x -> endsWith(" + d + ", x), " + sp + "))", nil
	case ListString, ListMap:
		if v.kind != KindString {
			return "", &unpushable{n, "in_list of a " + kind + " list with a " + v.kind.String() + " is not pushed down"}
		}
		s, err := c.sql(v)
		if err != nil {
			return "", err
		}
		var keys []string
		for _, it := range items {
			if kind == ListMap {
				k, _, ok := strings.Cut(it, "=")
				if !ok {
					f := strings.Fields(it)
					if len(f) == 0 {
						continue
					}
					k = f[0]
				}
				it = strings.TrimSpace(k)
			} else {
				it = strings.TrimSpace(it)
			}
			keys = append(keys, it)
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		if len(keys) == 0 {
			return "false", nil
		}
		p, err := c.param(nameNode, "Array(String)", keys)
		if err != nil {
			return "", err
		}
		return "has(" + p + ", " + s + ")", nil
	}
	return "", c.errorf(nameNode, "in_list: list %q has kind %q: use ip, domain, string or map", nameNode.Value, kind)
}
