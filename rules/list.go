package rules

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// List kinds.
const (
	ListIP     = "ip"     // addresses and CIDR ranges
	ListDomain = "domain" // domains; an entry matches itself and its subdomains
	ListString = "string" // exact strings (user names, host names, categories …)
	ListMap    = "map"    // key → value (e.g. user → calendar group)
)

// List is a named list shared between rules. Lists are immutable once loaded.
type List struct {
	Name        string
	Kind        string
	Description string
	Pos         Pos
	// Files are the item files the list was read from, besides its inline items.
	Files []string

	prefixes []netip.Prefix
	addrs    map[netip.Addr]bool
	set      map[string]bool
	values   map[string]string
}

// Len returns the number of entries.
func (l *List) Len() int { return len(l.prefixes) + len(l.addrs) + len(l.set) + len(l.values) }

func newList(name, kind string) *List {
	return &List{Name: name, Kind: kind, addrs: map[netip.Addr]bool{}, set: map[string]bool{}, values: map[string]string{}}
}

// add adds one item as written in a rule file or a list file.
func (l *List) add(item string) error {
	item = strings.TrimSpace(item)
	switch l.Kind {
	case ListIP:
		p, err := parsePrefix(item)
		if err != nil {
			return err
		}
		if p.IsSingleIP() {
			l.addrs[p.Addr()] = true
		} else {
			l.prefixes = append(l.prefixes, p)
		}
	case ListDomain:
		l.set[strings.ToLower(strings.TrimPrefix(strings.TrimSuffix(item, "."), "*."))] = true
	case ListString:
		l.set[item] = true
	case ListMap:
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			f := strings.Fields(item)
			if len(f) != 2 {
				return fmt.Errorf("map item %q: write key = value or key value", item)
			}
			k, v = f[0], f[1]
		}
		l.values[strings.TrimSpace(k)] = strings.TrimSpace(v)
	default:
		return fmt.Errorf("list kind %q: use ip, domain, string or map", l.Kind)
	}
	return nil
}

// readFile adds the items of a list file: one item a line, blank lines and # comments ignored.
func (l *List) readFile(path string) []error {
	f, err := os.Open(path)
	if err != nil {
		return []error{fmt.Errorf("%s: cannot read the list file of %q: %w", path, l.Name, err)}
	}
	defer f.Close()
	var errs []error
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := l.add(line); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d:1: list %q: %w", path, n, l.Name, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: list %q: %w", path, l.Name, err))
	}
	l.Files = append(l.Files, path)
	return errs
}

// Contains reports whether v (an address or a string) is in the list.
func (l *List) Contains(v any) bool {
	switch l.Kind {
	case ListIP:
		a, ok := asAddr(v)
		if !ok {
			return false
		}
		if l.addrs[a] {
			return true
		}
		for _, p := range l.prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	case ListDomain:
		s, _ := v.(string)
		s = strings.ToLower(strings.TrimSuffix(s, "."))
		for s != "" {
			if l.set[s] {
				return true
			}
			_, rest, ok := strings.Cut(s, ".")
			if !ok {
				break
			}
			s = rest
		}
		return false
	case ListMap:
		s, _ := v.(string)
		_, ok := l.values[s]
		return ok
	default:
		switch x := v.(type) {
		case string:
			return l.set[x]
		case netip.Addr:
			return l.set[x.String()]
		}
		return false
	}
}

// Lookup returns the value of key in a map list ("" when absent or not a map list).
func (l *List) Lookup(key string) string { return l.values[key] }

// Items returns the list's entries as text, sorted.
func (l *List) Items() []string {
	var out []string
	for _, p := range l.prefixes {
		out = append(out, p.String())
	}
	for a := range l.addrs {
		out = append(out, a.String())
	}
	for s := range l.set {
		out = append(out, s)
	}
	for k, v := range l.values {
		out = append(out, k+" = "+v)
	}
	slices.Sort(out)
	return out
}
