package rules

import (
	"container/list"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Options configure an Engine.
type Options struct {
	// Rules is the rule set to evaluate; required.
	Rules *RuleSet
	// Now is the wall clock, for Alert.Created and the start of absence watches; default time.Now.
	Now func() time.Time
	// Logger receives evaluation errors (rate-limited per rule); default slog.Default().
	Logger *slog.Logger
	// MaxGroups bounds the groups (window, suppression and absence keys) kept per rule; when full, the
	// least recently seen group is evicted and Stats.Evicted counts it. Default 100 000.
	MaxGroups int
	// MaxEventIDs bounds the event ids an alert carries (the latest ones). Default 20.
	MaxEventIDs int
	// Partition, when it splits, makes this engine evaluate only its share of the group keys (see
	// Partition); its window state, suppression and absence watches are that share's alone.
	Partition Partition
}

// Stats are the engine's counters since it was made.
type Stats struct {
	Events     uint64 `json:"events"`     // events evaluated
	Evaluated  uint64 `json:"evaluated"`  // rule conditions run (what the index saves)
	Matched    uint64 `json:"matched"`    // conditions that held
	Excepted   uint64 `json:"excepted"`   // matches dropped by an exception
	Alerts     uint64 `json:"alerts"`     // alerts raised
	Suppressed uint64 `json:"suppressed"` // alerts held back by suppression
	Errors     uint64 `json:"errors"`     // conditions that failed to evaluate
	Evicted    uint64 `json:"evicted"`    // groups evicted by MaxGroups
	Expired    uint64 `json:"expired"`    // idle groups dropped after their window passed
	Late       uint64 `json:"late"`       // events older than their group's window
}

// Engine evaluates events against a RuleSet and keeps the windows of threshold rules, the suppression
// periods and the heartbeats of absence rules. It is safe for concurrent use; evaluation is serialised.
type Engine struct {
	mu      sync.Mutex
	opts    Options
	rules   *RuleSet
	state   map[string]*ruleState
	vm      vm.VM
	stats   Stats
	lastLog map[string]time.Time

	// The results of the shared predicates for the event being evaluated, valid when memoEpoch[i]
	// equals epoch (incremented per event).
	preds     []predicate
	memoEpoch []uint32
	memoVal   []bool
	epoch     uint32
	// The hashes of the partition keys of the event being evaluated, valid when partEpoch[i] is epoch.
	partEpoch []uint32
	partHash  []uint64
}

// NewEngine makes an engine.
func NewEngine(opts Options) (*Engine, error) {
	if opts.Rules == nil {
		return nil, fmt.Errorf("rules engine: Options.Rules is nil: load a rule set first")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = 100_000
	}
	if opts.MaxEventIDs <= 0 {
		opts.MaxEventIDs = 20
	}
	if err := opts.Partition.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, state: map[string]*ruleState{}, lastLog: map[string]time.Time{}}
	e.setRules(opts.Rules)
	return e, nil
}

// Rules returns the rule set in use.
func (e *Engine) Rules() *RuleSet {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rules
}

// SetRules switches to a new rule set (a reload). The state of a rule whose id, condition, threshold,
// suppression and absence are unchanged is kept; the state of other rules starts afresh.
func (e *Engine) SetRules(rs *RuleSet) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setRules(rs)
}

func (e *Engine) setRules(rs *RuleSet) {
	old := e.state
	e.rules = rs
	e.preds = rs.comp.preds
	e.memoEpoch = make([]uint32, len(e.preds))
	e.memoVal = make([]bool, len(e.preds))
	e.partEpoch = make([]uint32, rs.partSlots)
	e.partHash = make([]uint64, rs.partSlots)
	e.epoch = 0
	e.state = make(map[string]*ruleState, len(rs.Rules))
	now := e.opts.Now()
	for _, r := range rs.Rules {
		if st, ok := old[r.ID]; ok && st.sig == r.sig {
			e.state[r.ID] = st
			continue
		}
		st := newRuleState(r.sig)
		if r.Absence != nil && r.Absence.Sources != "" {
			for _, key := range rs.Lists[r.Absence.Sources].Items() {
				if !e.opts.Partition.ownsKey(r.ID, key) {
					continue // another rule process watches this source
				}
				st.absent[key] = &absentEntry{LastSeen: now}
			}
		}
		e.state[r.ID] = st
	}
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

type ruleState struct {
	sig      string
	groups   map[string]*group
	lru      *list.List // of *group, most recently seen at the front
	suppress map[string]*suppressEntry
	sweepAt  int // size of suppress at which the periods that are over are swept
	absent   map[string]*absentEntry
}

func newRuleState(sig string) *ruleState {
	return &ruleState{sig: sig, groups: map[string]*group{}, lru: list.New(), suppress: map[string]*suppressEntry{}, sweepAt: 1024, absent: map[string]*absentEntry{}}
}

type entry struct {
	T  time.Time
	ID string
}

type suppressEntry struct {
	Until time.Time `json:"until"`
	Held  int       `json:"held"`
}

type absentEntry struct {
	LastSeen time.Time `json:"last_seen"`
	Alerted  time.Time `json:"alerted,omitzero"`
}

// Eval evaluates one event and returns the alerts it raises, in rule order.
func (e *Engine) Eval(ev *event.Event) []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.Events++
	e.epoch++
	if e.epoch == 0 { // wrapped: forget every stamp
		clear(e.memoEpoch)
		clear(e.partEpoch)
		e.epoch = 1
	}
	var out []Alert
	part := e.opts.Partition.Active()
	for _, bucket := range e.rules.index.candidates(ev) {
		for _, r := range bucket {
			if part && !e.owns(r, ev) {
				continue // another rule process owns this rule's key of the event
			}
			e.stats.Evaluated++
			ok, err := r.cond.matches(e, ev)
			if err != nil {
				e.fail(r, ev, err)
				continue
			}
			if !ok {
				continue
			}
			e.stats.Matched++
			if e.excepted(r, ev) {
				e.stats.Excepted++
				continue
			}
			if a, ok := e.apply(r, ev); ok {
				out = append(out, a)
			}
		}
	}
	if len(out) > 1 {
		slices.SortStableFunc(out, func(a, b Alert) int {
			ra, _ := e.rules.Rule(a.RuleID)
			rb, _ := e.rules.Rule(b.RuleID)
			return ra.seq - rb.seq
		})
	}
	return out
}

func (e *Engine) run(p *vm.Program, ev *event.Event) (bool, error) {
	v, err := e.vm.Run(p, ev)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

func (e *Engine) excepted(r *Rule, ev *event.Event) bool {
	for _, x := range r.Exceptions {
		ok, err := e.run(x.prog, ev)
		if err != nil {
			e.fail(r, ev, fmt.Errorf("exception %q: %w", x.Name, err))
			continue
		}
		if ok {
			return true
		}
	}
	return false
}

func (e *Engine) fail(r *Rule, ev *event.Event, err error) {
	e.stats.Errors++
	now := e.opts.Now()
	if last, ok := e.lastLog[r.ID]; ok && now.Sub(last) < time.Minute {
		return
	}
	e.lastLog[r.ID] = now
	e.opts.Logger.Warn("rule failed to evaluate; the event is skipped for this rule (logged at most once a minute per rule)",
		"rule", r.ID, "at", r.Pos.String(), "event", ev.ID, "error", err)
}

// groupKey is the internal key of an event's group: the values of the fields, joined by a unit
// separator. For one string field it is the field's value itself, so building it costs nothing.
func groupKey(fields []field, ev *event.Event) string {
	switch len(fields) {
	case 0:
		return ""
	case 1:
		return fields[0].get(ev)
	}
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(keySep)
		}
		b.WriteString(f.get(ev))
	}
	return b.String()
}

const keySep = '\x1f'

// displayKey turns an internal group key into the readable form alerts carry: "source.ip=10.1.1.5".
func displayKey(names []string, key string) (string, map[string]string) {
	if len(names) == 0 {
		return "", nil
	}
	vals := strings.Split(key, string(keySep))
	m := make(map[string]string, len(names))
	var b strings.Builder
	for i, n := range names {
		v := ""
		if i < len(vals) {
			v = vals[i]
		}
		m[n] = v
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(v)
	}
	return b.String(), m
}

// apply records a match of r and returns the alert it raises, if any.
func (e *Engine) apply(r *Rule, ev *event.Event) (Alert, bool) {
	st := e.state[r.ID]
	switch {
	case r.Absence != nil:
		key := r.Absence.by.get(ev)
		t := ev.Meta.Ingested
		if t.IsZero() {
			t = ev.Timestamp
		}
		a, ok := st.absent[key]
		if !ok {
			if len(st.absent) >= e.opts.MaxGroups {
				e.evictAbsent(st)
			}
			a = &absentEntry{}
			st.absent[key] = a
		}
		if t.After(a.LastSeen) {
			a.LastSeen = t
		}
		a.Alerted = time.Time{}
		return Alert{}, false
	case r.Threshold != nil:
		return e.window(r, st, ev)
	}
	if r.Suppress != nil && e.held(st, r, ev) {
		return Alert{}, false
	}
	a := e.newAlert(r, KindMatch)
	a.Count = 1
	a.EventIDs = []string{ev.ID}
	a.Zones = zonesOf(nil, ev)
	a.FirstSeen, a.LastSeen = ev.Timestamp, ev.Timestamp
	return e.release(r, st, ev, a)
}

func (e *Engine) newAlert(r *Rule, kind string) Alert {
	return Alert{RuleID: r.ID, Title: r.Title, Severity: r.Severity, Tags: r.Tags, Kind: kind, Created: e.opts.Now().UTC()}
}

// held reports, cheaply, whether suppression holds back an alert of r for ev, and counts it if so.
func (e *Engine) held(st *ruleState, r *Rule, ev *event.Event) bool {
	s, ok := st.suppress[groupKey(r.Suppress.by, ev)]
	if ok && ev.Timestamp.Before(s.Until) {
		s.Held++
		e.stats.Suppressed++
		return true
	}
	return false
}

// release applies suppression to an alert about to go out.
func (e *Engine) release(r *Rule, st *ruleState, ev *event.Event, a Alert) (Alert, bool) {
	if r.Suppress != nil {
		key := groupKey(r.Suppress.by, ev)
		if a.GroupKey == "" {
			a.GroupKey, a.Group = displayKey(r.Suppress.By, key)
		}
		t := ev.Timestamp
		s, ok := st.suppress[key]
		if ok && t.Before(s.Until) {
			s.Held++
			e.stats.Suppressed++
			return Alert{}, false
		}
		if !ok {
			if len(st.suppress) >= st.sweepAt {
				// Amortised clean-up: drop the periods that are over, then wait until the map doubles.
				for k, s := range st.suppress {
					if !t.Before(s.Until) {
						delete(st.suppress, k)
					}
				}
				st.sweepAt = max(1024, 2*len(st.suppress))
			}
			if len(st.suppress) >= e.opts.MaxGroups {
				e.evictSuppress(st, t)
			}
			s = &suppressEntry{}
			st.suppress[key] = s
		}
		a.Suppressed = s.Held
		s.Held = 0
		s.Until = t.Add(r.Suppress.For)
	}
	a.ID = alertID(r.ID, a.GroupKey, a.FirstSeen)
	e.stats.Alerts++
	return a, true
}

func (e *Engine) evictSuppress(st *ruleState, now time.Time) {
	for k, s := range st.suppress {
		if !now.Before(s.Until) {
			delete(st.suppress, k)
		}
	}
	for k := range st.suppress { // still full: drop any one
		if len(st.suppress) < e.opts.MaxGroups {
			break
		}
		delete(st.suppress, k)
		e.stats.Evicted++
	}
}

func (e *Engine) evictAbsent(st *ruleState) {
	var oldest string
	var t time.Time
	for k, a := range st.absent {
		if oldest == "" || a.LastSeen.Before(t) {
			oldest, t = k, a.LastSeen
		}
	}
	delete(st.absent, oldest)
	e.stats.Evicted++
}

func zonesOf(zs []string, ev *event.Event) []string {
	for _, z := range [2]string{ev.Source.Zone, ev.Destination.Zone} {
		if z != "" && !slices.Contains(zs, z) && len(zs) < 8 {
			zs = append(zs, z)
		}
	}
	return zs
}

// Tick checks the absence rules at now and returns an alert for every source silent for longer than
// its rule expects. A silent source alerts once; with suppress: it alerts again every suppress period
// while it stays silent. Call it from a ticker (e.g. every minute).
func (e *Engine) Tick(now time.Time) []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	for _, r := range e.rules.Rules {
		if r.Absence == nil || !r.Enabled {
			continue
		}
		st := e.state[r.ID]
		for _, key := range sortedKeys(st.absent) {
			a := st.absent[key]
			if now.Sub(a.LastSeen) <= r.Absence.Every {
				continue
			}
			if !a.Alerted.IsZero() && (r.Suppress == nil || now.Sub(a.Alerted) < r.Suppress.For) {
				continue
			}
			a.Alerted = now
			al := e.newAlert(r, KindAbsence)
			al.GroupKey = r.Absence.By + "=" + key
			al.Group = map[string]string{r.Absence.By: key}
			al.FirstSeen, al.LastSeen = a.LastSeen, a.LastSeen
			al.ID = alertID(r.ID, al.GroupKey, a.LastSeen)
			e.stats.Alerts++
			out = append(out, al)
		}
	}
	return out
}
