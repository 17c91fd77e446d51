package rules

import (
	"context"
	"strings"
	"testing"
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
