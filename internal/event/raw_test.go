package event

import "testing"

func TestSplitRawJoinRaw(t *testing.T) {
	for _, c := range []struct {
		raw, message, head string
		whole              bool
	}{
		{"<13>h body", "body", "<13>h ", false},
		{"line", "line", "", false},
		{"line", "", "line", false},
		{"<13>h \x93\xfa", "日", "<13>h \x93\xfa", true},
		{"a body b", "body", "a body b", true},
	} {
		head, whole := SplitRaw(c.raw, c.message)
		if head != c.head || whole != c.whole {
			t.Errorf("SplitRaw(%q, %q) = %q, %v; want %q, %v", c.raw, c.message, head, whole, c.head, c.whole)
		}
		if got := JoinRaw(head, whole, c.message); got != c.raw {
			t.Errorf("JoinRaw(SplitRaw(%q, %q)) = %q", c.raw, c.message, got)
		}
	}
}
