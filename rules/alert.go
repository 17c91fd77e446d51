package rules

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"time"
)

// Alert is what a rule raises. It encodes as JSON for the NATS subject zw.alerts.<severity> (see
// Subject) and for the alerts table.
type Alert struct {
	// ID is derived from the rule, the group and the first event, so a replay raises the same ids.
	ID       string   `json:"id"`
	RuleID   string   `json:"rule_id"`
	Title    Title    `json:"title"`
	Severity string   `json:"severity"`
	Tags     []string `json:"tags,omitempty"`
	Kind     string   `json:"kind"` // match, threshold or absence
	// GroupKey identifies the group the alert is about ("source.ip=10.1.1.5"); "" for ungrouped rules.
	GroupKey string            `json:"group_key,omitempty"`
	Group    map[string]string `json:"group,omitempty"`
	// Count is the number of matching events the alert stands for (for a distinct count: the events
	// since the group's window started); Distinct the number of distinct values of a distinct count.
	Count    int `json:"count"`
	Distinct int `json:"distinct,omitempty"`
	// EventIDs are the ids of the triggering events (the latest MaxEventIDs); EventIDsOmitted says
	// how many more there were.
	EventIDs        []string `json:"event_ids,omitempty"`
	EventIDsOmitted int      `json:"event_ids_omitted,omitempty"`
	// Zones are the source and destination zones seen in the triggering events, sorted.
	Zones     []string  `json:"zones,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Suppressed counts the alerts of this group suppressed since the previous alert went out.
	Suppressed int       `json:"suppressed,omitempty"`
	Created    time.Time `json:"created"`
}

// Subject is the NATS subject the alert is published on.
func (a *Alert) Subject() string { return "zw.alerts." + a.Severity }

func alertID(rule, group string, first time.Time) string {
	h := fnv.New128a()
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write([]byte(group))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(first.UnixNano()))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))
}
