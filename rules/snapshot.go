package rules

import (
	"fmt"
	"slices"
	"time"
)

// SnapshotVersion is the version of the snapshot format.
const SnapshotVersion = 1

// Snapshot is the engine's state — windows, suppression periods, heartbeats — as plain data that
// encodes as JSON, so it can be persisted and restored across restarts.
type Snapshot struct {
	Version int                     `json:"version"`
	Taken   time.Time               `json:"taken"`
	Rules   map[string]RuleSnapshot `json:"rules"`
}

// RuleSnapshot is the state of one rule. Signature ties it to the rule's condition, threshold,
// suppression and absence: a changed rule starts afresh.
type RuleSnapshot struct {
	Signature string                   `json:"signature"`
	Groups    []GroupSnapshot          `json:"groups,omitempty"`
	Suppress  map[string]SuppressState `json:"suppress,omitempty"`
	Absence   map[string]AbsenceState  `json:"absence,omitempty"`
}

// GroupSnapshot is the window of one group key, least recently seen first.
type GroupSnapshot struct {
	// Key is the values of the rule's group-by fields, joined by U+001F.
	Key     string          `json:"key"`
	Start   time.Time       `json:"start,omitzero"`
	Fired   bool            `json:"fired,omitempty"`
	Latest  time.Time       `json:"latest,omitzero"`
	Events  int             `json:"events,omitempty"`
	Entries []EntrySnapshot `json:"entries,omitempty"`
	Zones   []string        `json:"zones,omitempty"`
}

// EntrySnapshot is one counted event; Value is set for distinct counts.
type EntrySnapshot struct {
	Time  time.Time `json:"t"`
	ID    string    `json:"id,omitempty"`
	Value *string   `json:"v,omitempty"`
}

// SuppressState is a suppression period of a group key.
type SuppressState = suppressEntry

// AbsenceState is the heartbeat of one source of an absence rule.
type AbsenceState = absentEntry

// Snapshot returns a copy of the engine's state.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Snapshot{Version: SnapshotVersion, Taken: e.opts.Now().UTC(), Rules: map[string]RuleSnapshot{}}
	for id, st := range e.state {
		rsn := RuleSnapshot{Signature: st.sig}
		for el := st.lru.Back(); el != nil; el = el.Prev() {
			g := el.Value.(*group)
			gs := GroupSnapshot{Key: g.key, Start: g.start, Fired: g.fired, Latest: g.latest, Events: g.events, Zones: slices.Clone(g.zones)}
			for _, x := range g.entries {
				gs.Entries = append(gs.Entries, EntrySnapshot{Time: x.T, ID: x.ID})
			}
			for _, v := range sortedKeys(g.distinct) {
				x := g.distinct[v]
				gs.Entries = append(gs.Entries, EntrySnapshot{Time: x.T, ID: x.ID, Value: &v})
			}
			rsn.Groups = append(rsn.Groups, gs)
		}
		if len(st.suppress) > 0 {
			rsn.Suppress = map[string]SuppressState{}
			for k, v := range st.suppress {
				rsn.Suppress[k] = *v
			}
		}
		if len(st.absent) > 0 {
			rsn.Absence = map[string]AbsenceState{}
			for k, v := range st.absent {
				rsn.Absence[k] = *v
			}
		}
		if len(rsn.Groups) > 0 || rsn.Suppress != nil || rsn.Absence != nil {
			s.Rules[id] = rsn
		}
	}
	return s
}

// Restore replaces the state of the engine's rules with the snapshot's. The state of a rule that is
// gone, or whose signature changed, is skipped; their ids are returned so the caller can log them.
func (e *Engine) Restore(s Snapshot) (skipped []string, err error) {
	if s.Version != SnapshotVersion {
		return nil, fmt.Errorf("rules snapshot version %d, this engine reads version %d: discard the snapshot (windows start empty)", s.Version, SnapshotVersion)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range sortedKeys(s.Rules) {
		rsn := s.Rules[id]
		r, ok := e.rules.Rule(id)
		if !ok || r.sig != rsn.Signature {
			skipped = append(skipped, id)
			continue
		}
		st := newRuleState(r.sig)
		for _, gs := range rsn.Groups {
			g := &group{key: gs.Key, start: gs.Start, fired: gs.Fired, latest: gs.Latest, events: gs.Events, zones: gs.Zones}
			for _, x := range gs.Entries {
				if x.Value != nil {
					if g.distinct == nil {
						g.distinct = map[string]entry{}
					}
					g.distinct[*x.Value] = entry{T: x.Time, ID: x.ID}
				} else {
					g.entries = append(g.entries, entry{T: x.Time, ID: x.ID})
				}
			}
			if st.lru.Len() >= e.opts.MaxGroups {
				old := st.lru.Remove(st.lru.Back()).(*group)
				delete(st.groups, old.key)
				e.stats.Evicted++
			}
			g.elem = st.lru.PushFront(g)
			st.groups[g.key] = g
		}
		for k, v := range rsn.Suppress {
			v := v
			st.suppress[k] = &v
		}
		for k, v := range rsn.Absence {
			v := v
			st.absent[k] = &v
		}
		e.state[id] = st
	}
	return skipped, nil
}
