package rules

import (
	"container/list"
	"slices"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// group is the window of one group key of one threshold rule.
type group struct {
	key      string
	elem     *list.Element
	start    time.Time // tumbling: start of the current window
	fired    bool      // tumbling: the current window has alerted
	entries  []entry   // count: the matching events in the window
	distinct map[string]entry
	zones    []string
	latest   time.Time
	events   int // matching events since the window (re)started
}

// window adds a match to its group's window and alerts when the threshold is reached. A sliding window
// alerts and starts afresh; a tumbling window alerts once per window.
func (e *Engine) window(r *Rule, st *ruleState, ev *event.Event) (Alert, bool) {
	th := r.Threshold
	key := groupKey(th.by, ev)
	g, ok := st.groups[key]
	if ok {
		st.lru.MoveToFront(g.elem)
	} else {
		if st.lru.Len() >= e.opts.MaxGroups {
			old := st.lru.Remove(st.lru.Back()).(*group)
			delete(st.groups, old.key)
			e.stats.Evicted++
		}
		g = &group{key: key}
		g.elem = st.lru.PushFront(g)
		st.groups[key] = g
	}
	t := ev.Timestamp
	// Drop up to two groups whose windows have long passed, from the least recently seen end: memory
	// follows the active groups, not every key ever seen.
	for range 2 {
		back := st.lru.Back()
		if back == nil || back == g.elem {
			break
		}
		old := back.Value.(*group)
		if !old.latest.Add(th.Within).Before(t) {
			break
		}
		st.lru.Remove(back)
		delete(st.groups, old.key)
		e.stats.Expired++
	}
	if th.Tumbling {
		start := windowStart(t, th.Within)
		switch {
		case start.Before(g.start):
			e.stats.Late++
			return Alert{}, false
		case start.After(g.start):
			g.reset()
			g.start = start
		}
		if g.fired {
			return Alert{}, false
		}
	} else if !g.latest.IsZero() && t.Before(g.latest.Add(-th.Within)) {
		e.stats.Late++
		return Alert{}, false
	}
	if t.After(g.latest) {
		g.latest = t
	}
	g.zones = zonesOf(g.zones, ev)
	g.events++
	en := entry{T: t, ID: ev.ID}
	var n int
	if th.distinct != nil {
		if g.distinct == nil {
			g.distinct = map[string]entry{}
		}
		v := th.distinct.get(ev)
		if old, ok := g.distinct[v]; !ok || old.T.Before(t) {
			g.distinct[v] = en
		}
		if len(g.distinct) >= th.Need && !th.Tumbling {
			cut := g.latest.Add(-th.Within)
			for k, x := range g.distinct {
				if x.T.Before(cut) {
					delete(g.distinct, k)
				}
			}
		}
		n = len(g.distinct)
	} else {
		g.entries = append(g.entries, en)
		if len(g.entries) >= th.Need && !th.Tumbling {
			cut := g.latest.Add(-th.Within)
			g.entries = slices.DeleteFunc(g.entries, func(x entry) bool { return x.T.Before(cut) })
		}
		n = len(g.entries)
	}
	if n < th.Need {
		return Alert{}, false
	}
	a := e.newAlert(r, "threshold")
	a.GroupKey, a.Group = displayKey(th.By, key)
	es := g.entries
	if th.distinct != nil {
		a.Distinct = n
		es = make([]entry, 0, len(g.distinct))
		for _, x := range g.distinct {
			es = append(es, x)
		}
	}
	// Ties in time are ordered by id: the distinct values come from a map, and an alert must carry the
	// same events however often the same events are evaluated (a backtest, a replay).
	slices.SortFunc(es, func(x, y entry) int {
		if c := x.T.Compare(y.T); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	a.Count = len(es)
	if th.distinct != nil {
		a.Count = max(g.events, n)
	}
	a.FirstSeen, a.LastSeen = es[0].T, es[len(es)-1].T
	keep := es
	if len(keep) > e.opts.MaxEventIDs {
		a.EventIDsOmitted = len(keep) - e.opts.MaxEventIDs
		keep = keep[len(keep)-e.opts.MaxEventIDs:]
	}
	for _, x := range keep {
		a.EventIDs = append(a.EventIDs, x.ID)
	}
	a.Zones = slices.Sorted(slices.Values(g.zones))
	if th.Tumbling {
		g.fired = true
	} else {
		g.reset()
	}
	return e.release(r, st, ev, a)
}

// windowStart is the start of the tumbling window holding t. Windows are aligned on Asia/Tokyo
// midnight (UTC+9, no daylight saving), so a one-day window is a calendar day there.
func windowStart(t time.Time, w time.Duration) time.Time {
	const jst = 9 * time.Hour
	return t.Add(jst).Truncate(w).Add(-jst)
}

func (g *group) reset() {
	g.entries = g.entries[:0]
	g.distinct = nil
	g.zones = g.zones[:0]
	g.fired = false
	g.events = 0
}
