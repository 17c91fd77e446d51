package rules

import (
	"context"
	"strings"
	"testing"
)

// TestLoadErrors checks that every mistake is reported with file:line:column, what is wrong and what
// to do, and that one load reports them all.
func TestLoadErrors(t *testing.T) {
	_, err := Load(context.Background(), "testdata/bad", LoadOptions{})
	if err == nil {
		t.Fatal("a broken rule set was accepted")
	}
	golden(t, "bad.golden", strings.ReplaceAll(err.Error(), "testdata/bad/", "")+"\n")
}
