package rules

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

// TestRunTestsExplains checks the report of failing rule tests: the deciding event, each operand of
// the condition (macros opened), the exceptions, and for thresholds what was counted.
func TestRunTestsExplains(t *testing.T) {
	rep, err := RunTests(context.Background(), "testdata/failing", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Failed != 4 || rep.Passed != 0 {
		t.Errorf("passed %d, failed %d; want 0 and 4", rep.Passed, rep.Failed)
	}
	golden(t, "failing.golden", strings.ReplaceAll(rep.String(), "testdata/failing/", ""))
}

func TestExplain(t *testing.T) {
	rs, err := Load(context.Background(), "default", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{ID: "e1", Source: event.Endpoint{IP: netip.MustParseAddr("10.30.0.10"), Zone: "internet", Host: "gw-mail"},
		Destination: event.Endpoint{IP: netip.MustParseAddr("10.20.9.9"), Zone: "lgwan", Port: 25}}
	got, err := rs.Explain("ZW-CZ-003", ev)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "explain.golden", got)
	if _, err := rs.Explain("NOPE", ev); err == nil {
		t.Error("unknown rule explained")
	}
}
