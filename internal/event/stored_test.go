package event

import (
	"net/netip"
	"testing"
	"time"
)

func TestStoreText(t *testing.T) {
	at := time.Date(2026, 11, 5, 23, 4, 5, 678_901_234, time.UTC) // 08:04:05.678 on the 6th in Japan
	v4 := netip.MustParseAddr("10.30.0.25")
	tests := []struct {
		name         string
		raw, message string
		with         func(e *Event)
		template     string // the stored message
		head         string // the stored raw_head
		verbatim     bool
	}{
		{
			name: "squid line with every value it repeats",
			raw:  "1793919845.678     84 10.30.0.25 TCP_MISS/200 18822 GET http://a.example/x watanabe.d HIER_DIRECT/198.51.100.7 text/html",
			with: func(e *Event) {
				e.Source.IP, e.Destination.IP = v4, netip.MustParseAddr("198.51.100.7")
				e.Destination.Bytes, e.URL.Original, e.User.Name = 18822, "http://a.example/x", "watanabe.d"
			},
			template: "\x04     84 \x06 TCP_MISS/200 \x0e GET \x01 \x02 HIER_DIRECT/\x07 text/html",
		},
		{
			name:     "fortigate: milliseconds at the head of nanoseconds, time of day in Japan",
			raw:      "<189>1 2026-11-06T08:04:05.678+09:00 fw - - - - time=08:04:05 eventtime=1793919845678123456 srcport=55302 sentbyte=300",
			message:  "time=08:04:05 eventtime=1793919845678123456 srcport=55302 sentbyte=300",
			with:     func(e *Event) { e.Source.Port, e.Source.Bytes = 55302, 300 },
			template: "time=\x05 eventtime=\x03123456 srcport=\x0f sentbyte=\x08",
			head:     "<189>1 \x11 fw - - - - ",
		},
		{
			name:     "RFC 3164 header, day padded",
			raw:      "<13>Nov  6 08:04:05 host app: from 10.30.0.25",
			message:  "from 10.30.0.25",
			with:     func(e *Event) { e.Source.IP = v4 },
			template: "from \x06",
			head:     "<13>\x10 host app: ",
		},
		{
			name:     "only whole tokens: a value inside a longer word or number stays",
			raw:      "<13>x 10.30.0.255 port=4430 user=adminx admin",
			message:  "10.30.0.255 port=4430 user=adminx admin",
			with:     func(e *Event) { e.Source.IP, e.Source.Port, e.User.Name = v4, 443, "admin" },
			template: "10.30.0.255 port=4430 user=adminx \x02",
			head:     "<13>x ",
		},
		{
			name:    "first whole occurrence only",
			raw:     "<13>x 443 443",
			message: "443 443", with: func(e *Event) { e.Source.Port = 443 },
			template: "\x0f 443", head: "<13>x ",
		},
		{
			name:     "a control byte of the line's own: stored verbatim",
			raw:      "<13>Nov  6 08:04:05 host app: \x1b[31m10.30.0.25",
			message:  "\x1b[31m10.30.0.25",
			with:     func(e *Event) { e.Source.IP = v4 },
			template: "\x1b[31m10.30.0.25", head: "<13>Nov  6 08:04:05 host app: ", verbatim: true,
		},
		{
			name:     "a line stored whole: verbatim",
			raw:      "<13>Nov  6 08:04:05 host app: \x93\xfa",
			message:  "日",
			template: "日", head: "<13>Nov  6 08:04:05 host app: \x93\xfa", verbatim: true,
		},
		{
			name:     "zero values and other zones' times are text",
			raw:      "<13>Nov  5 23:04:05 host app: port 0 bytes 0",
			message:  "port 0 bytes 0",
			template: "port 0 bytes 0", head: "<13>Nov  5 23:04:05 host app: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Event{Timestamp: at, Message: tt.message, Meta: Meta{Original: tt.raw}}
			if tt.message == "" {
				e.Message = tt.raw // a file line: the message is the line
			}
			if tt.with != nil {
				tt.with(&e)
			}
			got := StoreText(&e)
			if got.MessageTemplate != tt.template || got.RawHead != tt.head || got.Verbatim != tt.verbatim {
				t.Errorf("StoreText = template %q, head %q, verbatim %v; want %q, %q, %v",
					got.MessageTemplate, got.RawHead, got.Verbatim, tt.template, tt.head, tt.verbatim)
			}
			back := e
			back.Message, back.Meta.Original = "", ""
			got.Load(&back)
			if back.Message != e.Message || back.Meta.Original != e.Meta.Original {
				t.Errorf("Load gives message %q, raw %q; stored %q, %q", back.Message, back.Meta.Original, e.Message, e.Meta.Original)
			}
		})
	}
}

// Whatever the texts and the values, Load gives back what StoreText was given.
func FuzzStoreTextRoundTrip(f *testing.F) {
	f.Add("<13>Nov  6 08:04:05 h a: ", "10.30.0.25 443 443 x", "x", uint16(443), uint64(443), int64(1793919845678))
	f.Add("", "1793919845.678 \x01 http://x/", "http://x/", uint16(0), uint64(0), int64(0))
	f.Add("<13>", "a\x00b 1 1 1", "1", uint16(1), uint64(1), int64(-5))
	f.Fuzz(func(t *testing.T, head, message, word string, port uint16, bytes uint64, ms int64) {
		e := Event{Timestamp: time.UnixMilli(ms), Message: message, Meta: Meta{Original: head + message}}
		e.Source.Port, e.Source.Bytes, e.Destination.Bytes = port, bytes, bytes
		e.User.Name, e.URL.Original = word, word
		e.Source.IP = netip.AddrFrom4([4]byte{10, 30, 0, byte(port)})
		text := StoreText(&e)
		back := e
		back.Message, back.Meta.Original = "", ""
		text.Load(&back)
		if back.Message != e.Message || back.Meta.Original != e.Meta.Original {
			t.Fatalf("stored %+v: Load gives message %q, raw %q; want %q, %q", text, back.Message, back.Meta.Original, e.Message, e.Meta.Original)
		}
	})
}

// japanTime writes its layouts digit by digit: it must agree with time.Format.
func TestJapanTimeAgreesWithFormat(t *testing.T) {
	layouts := map[int]string{clockOnly: "15:04:05", rfc3164: time.Stamp, rfc3339Millis: "2006-01-02T15:04:05.000+09:00"}
	from, to := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range int64(20000) {
		ms := from + (to-from)/20000*i + i*7919 // spread over two centuries, every millisecond digit
		at := time.UnixMilli(ms)
		for layout, format := range layouts {
			if got, want := japanTime(at, layout), at.In(japan).Format(format); got != want {
				t.Fatalf("japanTime(%s, %q) = %q, want %q", at.UTC(), format, got, want)
			}
		}
	}
}
