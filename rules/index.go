package rules

import (
	"slices"

	"github.com/zonewatch/zonewatch/internal/event"
)

// index files each enabled rule under one equality its condition requires (of event.action,
// event.module, event.category, destination.zone, source.zone), or in the catch-all bucket. For an
// event, the candidate rules are the five buckets its field values select plus the catch-all; the
// buckets are disjoint, so no rule is evaluated twice.
type index struct {
	buckets  [numIdx]map[string][]*Rule
	catchAll []*Rule
}

func buildIndex(rules []*Rule) *index {
	ix := &index{}
	for i := range ix.buckets {
		ix.buckets[i] = map[string][]*Rule{}
	}
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		// File the rule under the constraint whose buckets are the emptiest so far (ties: the field
		// order), so rules that share a common constraint (event.category == "network") spread out over
		// their rarer ones (source.zone == "dmz").
		best, bestSize := -1, 0
		var vals []string
		for _, c := range r.cond.require {
			size := 0
			for _, v := range c.values {
				size = max(size, len(ix.buckets[c.field][v]))
			}
			size += len(c.values) - 1
			if best == -1 || size < bestSize || (size == bestSize && c.field < best) {
				best, bestSize, vals = c.field, size, c.values
			}
		}
		if best < 0 {
			ix.catchAll = append(ix.catchAll, r)
			continue
		}
		seen := map[string]bool{}
		for _, v := range vals {
			if !seen[v] {
				seen[v] = true
				ix.buckets[best][v] = append(ix.buckets[best][v], r)
			}
		}
	}
	return ix
}

// candidates returns the buckets of rules that may match e; they are disjoint.
func (ix *index) candidates(e *event.Event) [numIdx + 1][]*Rule {
	var out [numIdx + 1][]*Rule
	lookup := func(i int, v string) {
		if len(ix.buckets[i]) > 0 { // skip hashing for fields no rule is filed under
			out[i] = ix.buckets[i][v]
		}
	}
	lookup(idxAction, e.Meta.Action)
	lookup(idxModule, e.Meta.Module)
	lookup(idxCategory, e.Meta.Category)
	lookup(idxDstZone, e.Destination.Zone)
	lookup(idxSrcZone, e.Source.Zone)
	out[numIdx] = ix.catchAll
	return out
}

// all returns every indexed rule, in rule order.
func (ix *index) all() []*Rule {
	seen := map[*Rule]bool{}
	var out []*Rule
	for _, b := range ix.buckets {
		for _, rules := range b {
			for _, r := range rules {
				if !seen[r] {
					seen[r] = true
					out = append(out, r)
				}
			}
		}
	}
	out = append(out, ix.catchAll...)
	slices.SortFunc(out, func(a, b *Rule) int { return a.seq - b.seq })
	return out
}

// IndexStats says how the rules are filed: how many under each indexed field, and in the catch-all.
type IndexStats struct {
	ByField  map[string]int `json:"by_field"`
	CatchAll []string       `json:"catch_all"`
}

// IndexStats reports how the enabled rules are indexed.
func (rs *RuleSet) IndexStats() IndexStats {
	st := IndexStats{ByField: map[string]int{}}
	for i, b := range rs.index.buckets {
		seen := map[*Rule]bool{}
		for _, rules := range b {
			for _, r := range rules {
				seen[r] = true
			}
		}
		st.ByField[indexFields[i]] = len(seen)
	}
	for _, r := range rs.index.catchAll {
		st.CatchAll = append(st.CatchAll, r.ID)
	}
	return st
}
