package rules

import (
	"context"
	"strings"
	"testing"
)

// TestDefaultPack runs the tests of every rule of the default pack.
func TestDefaultPack(t *testing.T) {
	rep, err := RunTests(context.Background(), "default", LoadOptions{})
	if err != nil {
		t.Fatalf("the default pack does not load:\n%v", err)
	}
	if !rep.OK() || len(rep.Untested) > 0 {
		t.Errorf("\n%s", rep)
	}
	fromFile := 0
	for _, r := range rep.Results {
		if strings.HasSuffix(r.Pos.File, ".tests.yaml") {
			fromFile++
		}
	}
	if fromFile == 0 {
		t.Error("no test was read from a *.tests.yaml file")
	}
	if rep.Tests < 2*rep.Rules {
		t.Errorf("%d tests for %d rules: every rule needs at least a hit and a miss", rep.Tests, rep.Rules)
	}
}
