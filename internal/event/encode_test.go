package event

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// TestAppendJSONMatchesEncodingJSON: AppendJSON writes exactly encoding/json's bytes, for events that
// use every field, none of them, and the awkward strings and values the parsers let through.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	full := Event{
		ID: "0193a1b2c3d4e5f60718293a4b5c6d7e", Timestamp: time.Date(2026, 11, 2, 0, 15, 1, 123400000, time.UTC),
		Meta: Meta{Ingested: time.Date(2026, 11, 2, 0, 15, 1, 999999999, time.UTC), Module: "fortigate", Category: "network",
			Action: "deny", Outcome: OutcomeFailure, Severity: 4, CrossZone: true, Original: `<189>date=2026-11-02 srcip=10.10.1.5 msg="a<b>&c"`},
		Observer:    Observer{Hostname: "fgt-hq", IP: netip.MustParseAddr("10.20.0.1"), Zone: "lgwan"},
		Source:      Endpoint{IP: netip.MustParseAddr("10.10.1.5"), Port: 50000, Zone: "mynumber", Host: "app01", Bytes: 1 << 40},
		Destination: Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 443, Zone: "internet"},
		Network:     Network{Transport: "tcp", Protocol: "https"},
		User:        User{Name: "田中"},
		URL:         URL{Original: "http://example.jp/?q=<x>&y=1", Domain: "example.jp", Category: "malware"},
		HTTP:        HTTP{Method: "GET", Status: 403, UserAgent: "Mozilla/5.0 \"quoted\""},
		Process:     Process{Name: "fortigate"},
		Log:         Log{Listener: "tcp", Facility: 23, ParseStatus: ParseOK, ParseError: "none"},
		Message:     "line\nbreak\ttab\r\b\f\x00\x01\x1f\x7f",
		Labels:      map[string]string{"policyid": "12", "a": "<1>", "z&": "\u2028\u2029", "日本": "語", "": "empty key"},
	}
	tests := []struct {
		name string
		e    Event
	}{
		{"every field", full},
		{"zero event", Event{}},
		{"only what every event has", Event{ID: "x", Timestamp: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Log: Log{ParseStatus: ParseFailed}}},
		{"local times and no fraction", Event{ID: "x", Timestamp: time.Date(2026, 12, 31, 23, 59, 59, 0, tokyo), Meta: Meta{Ingested: time.Date(2026, 1, 1, 0, 0, 0, 1000, tokyo)}}},
		{"invalid UTF-8 and HTML characters", Event{ID: "\xff\xfe<id>", Message: "a\xc3(b\xe2\x82c&>", Meta: Meta{Original: "\xed\xa0\x80 surrogate"}}},
		{"IPv4 in IPv6 and a zone", Event{Source: Endpoint{IP: netip.MustParseAddr("::ffff:10.10.1.5")}, Destination: Endpoint{IP: netip.MustParseAddr("fe80::1%eth<0>")}}},
		{"unspecified addresses are not zero", Event{Source: Endpoint{IP: netip.IPv4Unspecified()}, Destination: Endpoint{IP: netip.IPv6Unspecified()}}},
		{"empty labels map", Event{ID: "x", Labels: map[string]string{}}},
		{"many labels", Event{ID: "x", Labels: manyLabels(40)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(&tt.e)
			if err != nil {
				t.Fatal(err)
			}
			prefix := []byte("prefix")
			got, err := AppendJSON(prefix, &tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[len(prefix):], want) || string(got[:len(prefix)]) != "prefix" {
				t.Errorf("AppendJSON differs from encoding/json:\n got  %s\n want %s", got[len(prefix):], want)
			}
		})
	}
}

// TestAppendJSONRefusesWhatEncodingJSONRefuses: a year JSON cannot hold is an error naming the field, and
// dst comes back unchanged.
func TestAppendJSONRefusesWhatEncodingJSONRefuses(t *testing.T) {
	for _, e := range []Event{
		{ID: "x", Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "x", Meta: Meta{Ingested: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}},
	} {
		if _, err := json.Marshal(&e); err == nil {
			t.Fatalf("encoding/json takes %v; the test's premise is wrong", e)
		}
		got, err := AppendJSON([]byte("keep"), &e)
		if err == nil || string(got) != "keep" {
			t.Errorf("AppendJSON = %q, %v; want \"keep\" and an error", got, err)
		}
	}
}

func manyLabels(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[string(rune('a'+i%26))+string(rune('0'+i/26))] = string(rune(0x3040 + i))
	}
	return m
}

// FuzzAppendJSON: for any strings in any field, AppendJSON writes encoding/json's bytes.
func FuzzAppendJSON(f *testing.F) {
	f.Add("x", "<script>&\u2028", "\xff\x00", "k", "v\n", uint16(443), int64(1762000000123456789))
	f.Add("", "", "", "", "", uint16(0), int64(0))
	f.Fuzz(func(t *testing.T, id, msg, original, lk, lv string, port uint16, nanos int64) {
		e := Event{ID: id, Timestamp: time.Unix(0, nanos).UTC(), Message: msg, Meta: Meta{Original: original, Module: lk},
			Source: Endpoint{Port: port, Host: lv}, Labels: map[string]string{lk: lv, lv: lk}}
		want, werr := json.Marshal(&e)
		got, gerr := AppendJSON(nil, &e)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("errors differ: encoding/json %v, AppendJSON %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON differs from encoding/json:\n got  %s\n want %s", got, want)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	e := Event{ID: "0193a1b2c3d4e5f60718293a4b5c6d7e", Timestamp: time.Now().UTC(), Meta: Meta{Ingested: time.Now().UTC(), Module: "sshd",
		Original: "<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Failed password for root from 203.0.113.77 port 40022 ssh2"},
		Source: Endpoint{IP: netip.MustParseAddr("203.0.113.77"), Port: 40022}, User: User{Name: "root"}, Log: Log{ParseStatus: ParseOK},
		Message: "Failed password for root from 203.0.113.77 port 40022 ssh2", Labels: map[string]string{"pid": "2345"}}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(&e)
		}
	})
	b.Run("go-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = gojson.Marshal(&e)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = AppendJSON(buf[:0], &e)
		}
	})
}

// TestNeedsEscapeMatchesBytewise: the eight-byte test says "plain" exactly when every byte is plain,
// for every byte value at every position and for random words (bytes near the tested values included).
func TestNeedsEscapeMatchesBytewise(t *testing.T) {
	bytewise := func(w [8]byte) bool {
		for _, c := range w {
			if c >= utf8.RuneSelf || !safe[c] {
				return true
			}
		}
		return false
	}
	check := func(w [8]byte) {
		if got, want := needsEscape(load64(string(w[:]), 0)), bytewise(w); got != want {
			t.Fatalf("needsEscape(%q) = %v, want %v", w[:], got, want)
		}
	}
	for c := range 256 {
		for pos := range 8 {
			w := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			w[pos] = byte(c)
			check(w)
		}
	}
	near := []byte{0, 0x1f, 0x20, 0x21, '"', 0x23, 0x25, '&', 0x27, 0x3b, '<', 0x3d, '>', 0x3f, 0x5b, '\\', 0x5d, 0x7e, 0x7f, 0x80, 0xff, 'a'}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		for i := range w {
			if r.IntN(2) == 0 {
				w[i] = near[r.IntN(len(near))]
			} else {
				w[i] = byte(0x20 + r.IntN(0x5f))
			}
		}
		check(w)
	}
}
