package envelope

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

var tokyo = time.FixedZone("Asia/Tokyo", 9*3600)

func parser(now time.Time) *Parser {
	return New(Options{Location: tokyo, Now: func() time.Time { return now }})
}

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, tokyo)
	for _, tc := range []struct {
		name, in                      string
		format, host, app, proc, body string
		ts                            time.Time
		sev                           uint8
	}{
		{"rfc5424", `<134>1 2026-11-25T09:15:01.123+09:00 fw-lgwan fortigate - traffic - date=2026-11-25 action="deny"`,
			"rfc5424", "fw-lgwan", "fortigate", "", `date=2026-11-25 action="deny"`, time.Date(2026, 11, 25, 0, 15, 1, 123e6, time.UTC), 6},
		{"rfc3164 with host", `<38>Nov 25 09:15:01 srv-auth sshd[4242]: Failed password for root from 10.30.1.9 port 4444 ssh2`,
			"rfc3164", "srv-auth", "sshd", "4242", "Failed password for root from 10.30.1.9 port 4444 ssh2", time.Date(2026, 11, 25, 0, 15, 1, 0, time.UTC), 6},
		{"rfc3164 without host", `<38>Nov 25 09:15:01 sshd[42]: Accepted password for a from 10.20.1.5 port 1 ssh2`,
			"rfc3164", "", "sshd", "42", "Accepted password for a from 10.20.1.5 port 1 ssh2", time.Date(2026, 11, 25, 0, 15, 1, 0, time.UTC), 6},
		{"rfc3164 iso timestamp", `<4>2026-11-25T09:15:01+09:00 fw-inet kernel: [1.2] DROP IN=eth0`,
			"rfc3164", "fw-inet", "kernel", "", "[1.2] DROP IN=eth0", time.Date(2026, 11, 25, 0, 15, 1, 0, time.UTC), 4},
		{"rfc3164 single-digit day", `<13>Nov  5 09:15:01 h app: x`,
			"rfc3164", "h", "app", "", "x", time.Date(2026, 11, 5, 0, 15, 1, 0, time.UTC), 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, err := parser(now).Parse([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if env.Format != tc.format || env.Hostname != tc.host || env.AppName != tc.app || env.ProcID != tc.proc || env.Body != tc.body || env.Severity != tc.sev {
				t.Errorf("got %+v", env)
			}
			if !env.Timestamp.Equal(tc.ts) {
				t.Errorf("timestamp %v, want %v", env.Timestamp, tc.ts)
			}
		})
	}
}

func TestDecemberLineReadInJanuaryIsLastYear(t *testing.T) {
	now := time.Date(2027, 1, 2, 0, 30, 0, 0, tokyo)
	env, err := parser(now).Parse([]byte("<13>Dec 31 23:59:00 h app: x"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 31, 23, 59, 0, 0, tokyo); !env.Timestamp.Equal(want) {
		t.Fatalf("timestamp %v, want %v", env.Timestamp, want)
	}
}

func TestShiftJISAndEUCJPAreTranscoded(t *testing.T) {
	const text = "ログイン失敗 ユーザー 田中"
	for _, enc := range []struct {
		name string
		b    func(string) ([]byte, error)
	}{
		{"Shift_JIS", func(s string) ([]byte, error) { return japanese.ShiftJIS.NewEncoder().Bytes([]byte(s)) }},
		{"EUC-JP", func(s string) ([]byte, error) { return japanese.EUCJP.NewEncoder().Bytes([]byte(s)) }},
	} {
		t.Run(enc.name, func(t *testing.T) {
			body, err := enc.b(text)
			if err != nil {
				t.Fatal(err)
			}
			msg := append([]byte("<13>Nov 25 09:15:01 old-dev app: "), body...)
			env, err := parser(time.Date(2026, 11, 25, 12, 0, 0, 0, tokyo)).Parse(msg)
			if err != nil {
				t.Fatal(err)
			}
			if env.Body != text || env.Charset != enc.name {
				t.Fatalf("body %q charset %q", env.Body, env.Charset)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, in := range []string{"", "hello", "<999>1 x", "<13", strings.Repeat("<", 10)} {
		if _, err := parser(time.Now()).Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q): no error", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"<13>1 2026-11-25T09:15:01Z h a - - - m", "<13>Nov 25 09:15:01 h a[1]: m", "<13>Nov 25 09:15:01 a: m", "<1>2026-11-25T09:15:01Z x y: z", "<13>\xff\xfe"} {
		f.Add([]byte(s))
	}
	p := parser(time.Date(2026, 11, 25, 12, 0, 0, 0, tokyo))
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _ = p.Parse(in)
	})
}

func BenchmarkParse(b *testing.B) {
	p := parser(time.Now())
	for _, in := range []string{
		`<134>1 2026-11-25T09:15:01.123+09:00 fw-lgwan fortigate - traffic - date=2026-11-25 time=09:15:01 devname="fw-lgwan" srcip=10.20.1.15 dstip=10.30.0.5 action="accept"`,
		`<38>Nov 25 09:15:01 srv-auth sshd[4242]: Failed password for root from 10.30.1.9 port 4444 ssh2`,
	} {
		b.Run(in[:12], func(b *testing.B) {
			msg := []byte(in)
			for b.Loop() {
				if _, err := p.Parse(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
