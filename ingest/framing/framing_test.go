package framing

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func readAll(t *testing.T, in string, max int) (msgs []string, framings []string, errs []error) {
	t.Helper()
	r := NewReader(strings.NewReader(in), max)
	for i := 0; i < 1000; i++ {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil && !errors.Is(err, ErrTooLong) {
			errs = append(errs, err)
			return
		}
		msgs = append(msgs, string(m))
		framings = append(framings, r.Framing())
		if err != nil {
			errs = append(errs, err)
		}
	}
	t.Fatal("reader did not end")
	return
}

func TestFramings(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     []string
		framing  string
		errs     int
	}{
		{"newline", "<13>1 a\n<13>1 b\n", 100, []string{"<13>1 a", "<13>1 b"}, NonTransparent, 0},
		{"crlf and nul", "<13>a\r\n<13>b\x00\n", 100, []string{"<13>a", "<13>b"}, NonTransparent, 0},
		{"last line without LF", "<13>a\n<13>b", 100, []string{"<13>a", "<13>b"}, NonTransparent, 0},
		{"octet counting", "7 <13>1 a7 <13>1 b", 100, []string{"<13>1 a", "<13>1 b"}, OctetCounting, 0},
		{"octet counting keeps LF inside", "9 <13>1 a\nb", 100, []string{"<13>1 a\nb"}, OctetCounting, 0},
		{"3164 line starting with a digit", "2026-11-25 text\n", 100, []string{"2026-11-25 text"}, NonTransparent, 0},
		{"too long line is cut, next survives", "<13>" + strings.Repeat("x", 600) + "\n<13>ok\n", 500, []string{"<13>" + strings.Repeat("x", 496), "<13>ok"}, NonTransparent, 1},
		{"too long counted message", "604 <13>" + strings.Repeat("y", 600) + "5 <13>z", 500, []string{"<13>" + strings.Repeat("y", 496), "<13>z"}, OctetCounting, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, fr, errs := readAll(t, tc.in, tc.max)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("messages %q, want %q", got, tc.want)
			}
			if fr[len(fr)-1] != tc.framing {
				t.Errorf("framing %s, want %s", fr[len(fr)-1], tc.framing)
			}
			if len(errs) != tc.errs {
				t.Errorf("errors %v, want %d", errs, tc.errs)
			}
		})
	}
}

func TestLongMessagesAboveEightKiB(t *testing.T) {
	body := "<13>1 " + strings.Repeat("z", 100_000)
	got, _, errs := readAll(t, "100006 "+body+"\n"+body+"\n", 200_000)
	if len(errs) != 0 || len(got) != 2 || got[0] != body || got[1] != body {
		t.Fatalf("got %d messages, errs %v", len(got), errs)
	}
}

func TestTruncatedOctetCountIsAnError(t *testing.T) {
	_, _, errs := readAll(t, "50 <13>1 short", 100)
	if len(errs) != 1 || !errors.Is(errs[0], io.ErrUnexpectedEOF) {
		t.Fatalf("errs %v", errs)
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{"7 <13>1 a", "<13>a\n", "99999999999 <", "1 <", "\n\n\r\x00", "12 <34>1 x\ny\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(strings.NewReader(string(in)), 64)
		for i := 0; i <= len(in)+1; i++ {
			m, err := r.Next()
			if len(m) > 64 {
				t.Fatalf("message of %d bytes above the limit", len(m))
			}
			if err != nil && !errors.Is(err, ErrTooLong) {
				return
			}
		}
		t.Fatalf("more messages than bytes in %q", in)
	})
}
