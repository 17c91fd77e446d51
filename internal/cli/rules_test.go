package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesCommands(t *testing.T) {
	bad := t.TempDir()
	body := "rules:\n  - id: X-1\n    title: {ja: テスト, en: test}\n    severity: high\n    condition: source.zonee == \"lgwan\"\n"
	if err := os.WriteFile(filepath.Join(bad, "bad.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"rules", "test", "../../rules/default"}, 0, " 0 failed"},
		{[]string{"rules", "lint", "../../rules/default"}, 0, "no errors"},
		{[]string{"rules", "lint", bad}, 1, "bad.yaml:5:23: error: rule X-1: condition: type event.Endpoint has no field zonee (did you mean zone?)"},
	} {
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), tc.args, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
			t.Errorf("zonewatch %v: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.want, out.String(), errOut.String())
		}
	}
}
