package rules

import (
	"context"
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	ds := Lint(context.Background(), "testdata/lint", LoadOptions{})
	golden(t, "lint.golden", strings.ReplaceAll(ds.String(), "testdata/lint/", ""))
}

// TestLintDefaultPack keeps the default pack free of errors and warnings.
func TestLintDefaultPack(t *testing.T) {
	for _, d := range Lint(context.Background(), "default", LoadOptions{}) {
		if d.Severity != DiagInfo {
			t.Error(d)
		}
	}
}
