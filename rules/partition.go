package rules

import (
	"fmt"
	"strings"

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
	// slot numbers the distinct keys of a rule set (most rules share source.ip or the event id), so that
	// an engine hashes each key once per event; rule is the hash of the rule id.
	slot int
	rule uint64
}

func partKeyOf(r *Rule) partKey {
	k := partKey{rule: hashString(r.ID)}
	switch {
	case r.Absence != nil:
		k.fields = []field{r.Absence.by}
	case r.Threshold != nil && r.Suppress != nil:
		// Both the window and the suppression period of a group must live in one process: partition on
		// the fields the two keys share (coarser than either).
		for _, f := range r.Threshold.by {
			for _, s := range r.Suppress.by {
				if s.name == f.name {
					k.fields = append(k.fields, f)
					break
				}
			}
		}
	case r.Threshold != nil:
		k.fields = r.Threshold.by
	case r.Suppress != nil:
		k.fields = r.Suppress.by
	default:
		k.byEvent = true
	}
	return k
}

// assignPartSlots numbers the distinct partition keys of a rule set and returns how many there are.
func assignPartSlots(rs []*Rule) int {
	slots := map[string]int{}
	for _, r := range rs {
		name := "\x00event"
		if !r.part.byEvent {
			var b strings.Builder
			for _, f := range r.part.fields {
				b.WriteString(f.name)
				b.WriteByte(keySep)
			}
			name = b.String()
		}
		slot, ok := slots[name]
		if !ok {
			slot = len(slots)
			slots[name] = slot
		}
		r.part.slot = slot
	}
	return len(slots)
}

// owns reports whether the engine's partition evaluates r on the event being evaluated. The key's hash
// is memoised per event (partEpoch, partHash), like the shared predicates.
func (e *Engine) owns(r *Rule, ev *event.Event) bool {
	k := &r.part
	if e.partEpoch[k.slot] != e.epoch {
		e.partEpoch[k.slot] = e.epoch
		if k.byEvent {
			e.partHash[k.slot] = hashString(ev.ID)
		} else {
			e.partHash[k.slot] = hashKey(k.fields, ev)
		}
	}
	return e.opts.Partition.owner(k.rule, e.partHash[k.slot])
}

// ownsKey is owns for a rule id and a key given as text (groupKey's form).
func (p Partition) ownsKey(rule, key string) bool {
	return !p.Active() || p.owner(hashString(rule), hashString(key))
}

func (p Partition) owner(rule, key uint64) bool {
	return mix(rule^key)%uint64(p.Count) == uint64(p.Index)
}

// hashKey is hashString(groupKey(fields, ev)) without building the joined string.
func hashKey(fields []field, ev *event.Event) uint64 {
	h := uint64(fnvOffset)
	for i, f := range fields {
		if i > 0 {
			h = (h ^ keySep) * fnvPrime
		}
		h = fnvAdd(h, f.get(ev))
	}
	return h
}

// hashString is FNV-1a, written out so that it does not allocate.
func hashString(s string) uint64 { return fnvAdd(fnvOffset, s) }

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// mix is splitmix64's finaliser: FNV's low bits alone split keys unevenly.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)
