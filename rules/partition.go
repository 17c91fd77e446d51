package rules

import (
	"fmt"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Partition splits the rules' group keys between Count rule processes; this engine is number Index
// (0 ≤ Index < Count). Every process reads every event, and for each rule it evaluates only the events
// whose partition key it owns: hash(rule id, key) mod Count == Index. The key of a rule is what its
// state depends on, so a windowed rule still sees every event of its group, in one process only:
//
//   - a threshold rule: its threshold.by fields (only those also in suppress.by, so that one process also
//     holds the group's suppression period);
//   - a rule with suppression alone: its suppress.by fields;
//   - an absence rule: its absence.by field (the heartbeat's source);
//   - a rule without state: the event id, so its events spread evenly.
//
// A rule grouped by no field (threshold or suppression over all events) is owned whole by one process.
// The zero value (Count 0 or 1) owns everything.
type Partition struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Validate says what is wrong with the partition, or nil.
func (p Partition) Validate() error {
	if p.Count < 0 || p.Index < 0 || (p.Count > 0 && p.Index >= p.Count) || (p.Count == 0 && p.Index != 0) {
		return fmt.Errorf("rules partition %d of %d: want 0 ≤ index < count (index counts from 0)", p.Index, p.Count)
	}
	return nil
}

// Active reports whether the partition splits anything.
func (p Partition) Active() bool { return p.Count > 1 }

func (p Partition) String() string {
	if !p.Active() {
		return "all"
	}
	return fmt.Sprintf("%d-of-%d", p.Index, p.Count)
}

// partKey is how a rule picks the key it is partitioned on.
type partKey struct {
	byEvent bool    // stateless rule: the event id
	fields  []field // otherwise the values of these fields ("" when none: the whole rule)
}

func partKeyOf(r *Rule) partKey {
	switch {
	case r.Absence != nil:
		return partKey{fields: []field{r.Absence.by}}
	case r.Threshold != nil:
		if r.Suppress == nil {
			return partKey{fields: r.Threshold.by}
		}
		// Both the window and the suppression period of a group must live in one process: partition on
		// the fields the two keys share (coarser than either).
		var common []field
		for _, f := range r.Threshold.by {
			for _, s := range r.Suppress.by {
				if s.name == f.name {
					common = append(common, f)
					break
				}
			}
		}
		return partKey{fields: common}
	case r.Suppress != nil:
		return partKey{fields: r.Suppress.by}
	}
	return partKey{byEvent: true}
}

// owns reports whether the partition evaluates rule on ev.
func (p Partition) owns(rule string, k partKey, ev *event.Event) bool {
	if k.byEvent {
		return p.ownsKey(rule, ev.ID)
	}
	return p.ownsKey(rule, groupKey(k.fields, ev))
}

func (p Partition) ownsKey(rule, key string) bool {
	if !p.Active() {
		return true
	}
	// FNV-1a, written out so that it does not allocate on every event.
	h := uint64(fnvOffset)
	for i := 0; i < len(rule); i++ {
		h = (h ^ uint64(rule[i])) * fnvPrime
	}
	h = (h ^ 0) * fnvPrime
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * fnvPrime
	}
	return h%uint64(p.Count) == uint64(p.Index)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)
