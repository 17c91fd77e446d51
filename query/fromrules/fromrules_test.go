package fromrules_test

import (
	"testing"

	"github.com/zonewatch/zonewatch/query/filter"
	"github.com/zonewatch/zonewatch/query/fromrules"
	"github.com/zonewatch/zonewatch/rules"
)

func TestRuleConditionAsFilter(t *testing.T) {
	rs, err := rules.Load(t.Context(), "testdata/rules", rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := rs.Rule("ZW-TEST-001")
	if !ok {
		t.Fatal("rule ZW-TEST-001 not loaded")
	}
	c, err := filter.Compile(r.Condition, filter.Options{Lists: fromrules.Lists(rs), Macros: fromrules.Macros(rs), Strict: true})
	if err != nil {
		t.Fatalf("the rule's condition %q as a filter: %v", r.Condition, err)
	}
	want := "(source_zone = {f1:String}) AND (destination_zone != {f2:String}) AND (NOT (arrayExists((lo, hi) -> destination_ip BETWEEN lo AND hi, {f3:Array(IPv6)}, {f4:Array(IPv6)})))"
	if c.Where != want {
		t.Errorf("where\n%s\nwant\n%s", c.Where, want)
	}
	if got := c.Params[2].Value.([]string); len(got) != 2 {
		t.Errorf("list bounds %v", got)
	}
	if _, err := filter.Compile(`in_list(user.name, "user_groups") and in_list(url.domain, "bad_domains")`, filter.Options{Lists: fromrules.Lists(rs)}); err != nil {
		t.Error(err)
	}
}

func TestRuleInfos(t *testing.T) {
	rs, err := rules.Load(t.Context(), "testdata/rules", rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	infos := fromrules.RuleInfos(rs)
	if len(infos) != len(rs.Rules) || len(infos) == 0 {
		t.Fatalf("%d infos for %d rules", len(infos), len(rs.Rules))
	}
	for i, r := range rs.Rules {
		got := infos[i]
		if got.ID != r.ID || got.Title.Ja != r.Title.Ja || got.Title.En != r.Title.En || got.Severity != r.Severity || got.Enabled != r.Enabled || got.Kind != r.Kind {
			t.Errorf("rule %s described as %+v", r.ID, got)
		}
	}
}
