package notify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/rules"
)

// Message kinds.
const (
	KindAlert  = "alert"
	KindDigest = "digest"
)

// Message is one notification: an alert, or the digest of the alerts a rate limit held back. It is
// the webhook's JSON body.
type Message struct {
	Kind     string       `json:"kind"`
	Receiver string       `json:"receiver"`
	Alert    *rules.Alert `json:"alert,omitempty"`
	Digest   *Digest      `json:"digest,omitempty"`
}

// Digest counts the alerts a receiver's rate limit held back.
type Digest struct {
	Suppressed int `json:"suppressed"`
	// Rules counts the held-back alerts by rule id.
	Rules map[string]int `json:"rules"`
	// First and Last are when the first and the last of them were held back.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

func (m *Message) alertID() string {
	if m.Alert != nil {
		return m.Alert.ID
	}
	return ""
}

// Subject is the mail subject: Japanese first, for the staff who read it, then the rule id and group.
func (m *Message) Subject() string {
	if m.Kind == KindDigest {
		return fmt.Sprintf("[zonewatch] 通知抑制: ほか %d 件のアラート (%d more alerts suppressed)", m.Digest.Suppressed, m.Digest.Suppressed)
	}
	a := m.Alert
	s := fmt.Sprintf("[zonewatch][%s] %s (%s)", strings.ToUpper(a.Severity), a.Title.Ja, a.RuleID)
	if a.GroupKey != "" {
		s += " " + a.GroupKey
	}
	return s
}

// Text is the plain-text body, in Japanese and then English, with times in loc.
func (m *Message) Text(loc *time.Location) string {
	var b strings.Builder
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	if m.Kind == KindDigest {
		dg := m.Digest
		fmt.Fprintf(&b, "通知の上限を超えたため、%s から %s までの %d 件のアラートを個別に通知しませんでした。\n", ts(dg.First), ts(dg.Last), dg.Suppressed)
		b.WriteString("アラートはすべて保存されています。Grafana またはアラート一覧で確認してください。\n\n")
		fmt.Fprintf(&b, "%d more alerts were held back by the rate limit between %s and %s.\n", dg.Suppressed, ts(dg.First), ts(dg.Last))
		b.WriteString("All of them are stored; see Grafana or the alerts list.\n\n")
		b.WriteString("ルール別 / by rule:\n")
		for _, id := range slices.Sorted(maps.Keys(dg.Rules)) {
			fmt.Fprintf(&b, "  %s: %d\n", id, dg.Rules[id])
		}
		return b.String()
	}
	a := m.Alert
	group := a.GroupKey
	if group == "" {
		group = "-"
	}
	fmt.Fprintf(&b, "zonewatch がアラートを検知しました。\n\n")
	fmt.Fprintf(&b, "ルール:     %s %s\n", a.RuleID, a.Title.Ja)
	fmt.Fprintf(&b, "重大度:     %s\n", a.Severity)
	fmt.Fprintf(&b, "対象:       %s\n", group)
	fmt.Fprintf(&b, "件数:       %d\n", a.Count)
	fmt.Fprintf(&b, "ゾーン:     %s\n", strings.Join(a.Zones, ", "))
	fmt.Fprintf(&b, "最初:       %s\n", ts(a.FirstSeen))
	fmt.Fprintf(&b, "最後:       %s\n", ts(a.LastSeen))
	if a.Suppressed > 0 {
		fmt.Fprintf(&b, "抑制:       前回の通知以降 %d 件\n", a.Suppressed)
	}
	fmt.Fprintf(&b, "\nAlert %s: %s (%s), severity %s, %s, %d events, zones %s, %s – %s.\n",
		a.ID, a.Title.En, a.RuleID, a.Severity, group, a.Count, strings.Join(a.Zones, ", "), ts(a.FirstSeen), ts(a.LastSeen))
	if len(a.Tags) > 0 {
		fmt.Fprintf(&b, "ATT&CK: %s\n", strings.Join(a.Tags, ", "))
	}
	if len(a.EventIDs) > 0 {
		fmt.Fprintf(&b, "Events: %s", strings.Join(a.EventIDs, ", "))
		if a.EventIDsOmitted > 0 {
			fmt.Fprintf(&b, " (and %d more)", a.EventIDsOmitted)
		}
		b.WriteString("\n")
	}
	return b.String()
}
