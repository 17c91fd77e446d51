package parse

import (
	"reflect"
	"testing"
)

func TestSplitFields(t *testing.T) {
	for _, c := range []struct {
		name, line string
		size       int
		rest       bool
		want       []string
		n          int
		ok         bool
	}{
		{"plain, runs of spaces and tabs", "a  b\tc ", 8, false, []string{"a", "b", "c"}, 3, true},
		{"quotes and brackets", `x [25/Nov/2026:09:15:01 +0900] "GET / HTTP/1.1" y`, 8, false, []string{"x", "25/Nov/2026:09:15:01 +0900", "GET / HTTP/1.1", "y"}, 4, true},
		{"escaped quote stays escaped", `"a \" b" c`, 8, false, []string{`a \" b`, "c"}, 2, true},
		{"quote closes only before a separator", `"a"b c" d`, 8, false, []string{`a"b c`, "d"}, 2, true},
		{"empty quotes", `"" -`, 8, false, []string{"", "-"}, 2, true},
		{"bracket not followed by a separator is plain", `[2001:db8::1]:443 x`, 8, false, []string{"[2001:db8::1]:443", "x"}, 2, true},
		{"unterminated quote", `a "b c`, 8, false, []string{"a"}, 1, false},
		{"unterminated bracket", `a [b c`, 8, false, []string{"a"}, 1, false},
		{"extra fields counted, not stored", "a b c d", 2, false, []string{"a", "b"}, 4, true},
		{"rest: last takes the rest", "a b c  d ", 2, true, []string{"a", "b c  d"}, 2, true},
		{"rest: last is one quoted field", `a "b c" `, 2, true, []string{"a", "b c"}, 2, true},
		{"rest: unterminated quote in the last field is kept raw", `a "b c `, 2, true, []string{"a", `"b c`}, 2, true},
		{"rest: unterminated quote before the last field", `"a b c`, 2, true, []string{}, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := make([]string, c.size)
			n, ok := splitFields(c.line, dst, c.rest)
			got := dst[:min(n, c.size)]
			if n != c.n || ok != c.ok || !reflect.DeepEqual(got, c.want) {
				t.Errorf("splitFields(%q) = %d %v %q, want %d %v %q", c.line, n, ok, got, c.n, c.ok, c.want)
			}
		})
	}
}

func TestURLHost(t *testing.T) {
	for in, want := range map[string]string{
		"http://WWW.Example.jp/a?b=c":        "www.example.jp",
		"https://user:pw@host.example:8443/": "host.example",
		"www.example.jp:443":                 "www.example.jp",
		"[2001:db8::1]:443":                  "2001:db8::1",
		"http://[2001:db8::1]:8080/x":        "2001:db8::1",
		"/path/only":                         "",
		"-":                                  "",
		"host.example":                       "host.example",
		"http://a.example?x=http://b/":       "a.example",
		"a/b?u=http://c.example/":            "a",
	} {
		if got := urlHost(in); got != want {
			t.Errorf("urlHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTimeReaders(t *testing.T) {
	if _, ok := clf("31/Nov/2026:09:15:01 +0900", nil); ok {
		t.Error("clf accepted 31 November")
	}
	if got, ok := clf("25/Nov/2026:09:15:01 -0130", nil); !ok || !got.Equal(utc("2026-11-25T10:45:01Z")) {
		t.Errorf("clf with -0130 = %v %v", got, ok)
	}
	for _, s := range []string{"1764050100", "1764050100.", ".5", "1764050100.1234567890", "17640501001234.5", "1e9.5"} {
		if _, ok := epoch(s); ok != (s == "1764050100") {
			t.Errorf("epoch(%q) ok = %v", s, ok)
		}
	}
	for s, want := range map[string]string{
		"1793578501":          "2026-11-02T00:15:01Z",
		"1793578501123":       "2026-11-02T00:15:01.123Z",
		"1793578501123456":    "2026-11-02T00:15:01.123456Z",
		"1793578501123456789": "2026-11-02T00:15:01.123456789Z",
	} {
		if got, ok := epochAuto(s); !ok || !got.Equal(utc(want)) {
			t.Errorf("epochAuto(%q) = %v %v, want %s", s, got, ok, want)
		}
	}
	if _, ok := epochAuto("12345678901"); ok {
		t.Error("epochAuto accepted 11 digits")
	}
}
