package rules_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/rules"
)

func ExampleEngine_Eval() {
	rs, err := rules.Load(context.Background(), "default", rules.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	en, _ := rules.NewEngine(rules.Options{Rules: rs, Now: func() time.Time { return time.Unix(0, 0) }})
	ev := &event.Event{
		ID:          "e1",
		Timestamp:   time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC),
		Meta:        event.Meta{Module: "fortigate", Category: "network", Action: "deny"},
		Source:      event.Endpoint{IP: netip.MustParseAddr("10.10.3.4"), Zone: "mynumber"},
		Destination: event.Endpoint{IP: netip.MustParseAddr("203.0.113.9"), Zone: "external", Port: 443},
	}
	for _, a := range en.Eval(ev) {
		fmt.Println(a.Subject(), a.RuleID, a.Title.En, a.GroupKey)
	}
	// Output:
	// zw.alerts.critical ZW-CZ-001 Connection attempt out of the mynumber zone source.ip=10.10.3.4,destination.ip=203.0.113.9
}
