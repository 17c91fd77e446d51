package event

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StoredText is what the events table keeps of an event's message and raw line (migrations 0010 and
// 0013). Most of a log line's bytes are values the parser also put in typed columns (addresses, ports,
// byte counts, the user, the URL, the time), so storing the line whole stores them twice: on the
// simulator's traffic the message was half of an event's bytes on disk. The table keeps the message and
// the raw header with each such value cut out and one control byte (a reference, below) in its place;
// the table's `message` and `raw` ALIASes, and Load, put the values back from the same row's columns.
// Nothing is lost: a reference is only written where the value, rendered exactly as ClickHouse renders
// the stored column, is in the text, and a text that already holds a reference byte is kept as it is.
type StoredText struct {
	MessageTemplate string // message_template: the message with references
	RawHead         string // raw_head: the raw line before the message, with references; the whole line if RawWhole
	RawWhole        bool   // raw_whole: the line does not end with its message (SplitRaw)
	Verbatim        bool   // verbatim: MessageTemplate and RawHead hold no references
}

// A reference is one value the stored texts may refer to instead of repeating it. Its byte and its
// rendering are part of the table's format: the ALIASes of migration 0013 render each the same way, and
// a byte once given keeps its meaning (new references take new bytes, 0x12 to 0x1f).
type reference struct {
	mark   byte
	value  func(e *Event) string // the stored column rendered as ClickHouse renders it; "" for none
	digits bool                  // the value may be followed by more digits in the text (milliseconds at the head of nanoseconds)
	spaced bool                  // cut only where a space or the text's end surrounds it (RefURL, RefUser)
}

// RefURL and RefUser are the references to url.original and user.name in a stored message. They are
// cut only where spaces (or the message's ends) surround the value, and every other reference of a
// message stands for a value made of ValueChars only. So a text with none of ValueChars, no space and
// no control byte in it is in a message exactly when it is in its template (within one stretch of
// text between references) or in the URL or the user it refers to: query/filter searches messages
// that way, without computing the table's message ALIAS for every row.
const (
	RefURL     = 0x01
	RefUser    = 0x02
	ValueChars = "0123456789.:"
)

// messageRefs are tried in this order, longest values first, so a short number does not take a place
// inside a longer value.
var messageRefs = [...]reference{
	{RefURL, func(e *Event) string { return e.URL.Original }, false, true},
	{RefUser, func(e *Event) string { return e.User.Name }, false, true},
	{0x03, func(e *Event) string { return epochMillis(e.Timestamp) }, true, false},
	{0x04, func(e *Event) string { return epochSecondsMillis(e.Timestamp) }, false, false},
	{0x05, func(e *Event) string { return japanTime(e.Timestamp, clockOnly) }, false, false},
	{0x06, func(e *Event) string { return ipv4(e.Source.IP) }, false, false},
	{0x07, func(e *Event) string { return ipv4(e.Destination.IP) }, false, false},
	{0x08, func(e *Event) string { return count(e.Source.Bytes) }, false, false},
	{0x0e, func(e *Event) string { return count(e.Destination.Bytes) }, false, false},
	{0x0f, func(e *Event) string { return count(uint64(e.Source.Port)) }, false, false},
}

// headRefs are the syslog header's timestamps: RFC 3164's and RFC 5424's (with milliseconds), in
// Japan's time, as the devices of the three zones write them.
var headRefs = [...]reference{
	{0x10, func(e *Event) string { return japanTime(e.Timestamp, rfc3164) }, false, false},
	{0x11, func(e *Event) string { return japanTime(e.Timestamp, rfc3339Millis) }, false, false},
}

// japan is Japan Standard Time (no daylight saving since 1951), which the ALIASes name 'Asia/Tokyo'.
// A device that writes another zone's time keeps its timestamps in the text: larger, never wrong.
var japan = time.FixedZone("JST", 9*60*60)

// StoreText returns what the events table keeps of e's message and raw line.
func StoreText(e *Event) StoredText {
	head, whole := SplitRaw(e.Meta.Original, e.Message)
	t := StoredText{MessageTemplate: e.Message, RawHead: head, RawWhole: whole, Verbatim: true}
	if whole || hasMark(e.Message) || hasMark(head) {
		return t
	}
	t.MessageTemplate = cut(e.Message, messageRefs[:], e)
	t.RawHead = cut(head, headRefs[:], e)
	t.Verbatim = false
	return t
}

// Load sets e.Message and e.Meta.Original from t, taking the referred values from e's typed fields,
// which must already hold the same row's columns. It is the inverse of StoreText, and does what the
// table's ALIASes do.
func (t StoredText) Load(e *Event) {
	message, head := t.MessageTemplate, t.RawHead
	if !t.Verbatim {
		message = fill(message, messageRefs[:], e)
		if !t.RawWhole {
			head = fill(head, headRefs[:], e)
		}
	}
	e.Message = message
	e.Meta.Original = JoinRaw(head, t.RawWhole, message)
}

// cut replaces the first occurrence of each reference's value that stands as a token of its own (not
// inside a longer word or number, nor inside a value cut before it) with the reference's byte.
func cut(s string, refs []reference, e *Event) string {
	if s == "" {
		return s
	}
	var found [16]span
	n := 0
	for _, r := range refs {
		v := r.value(e)
		if v == "" {
			continue
		}
		if i := tokenIndex(s, v, r, found[:n]); i >= 0 {
			found[n] = span{i, i + len(v), r.mark}
			n++
		}
	}
	if n == 0 {
		return s
	}
	spans := found[:n]
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for _, c := range spans {
		b.WriteString(s[at:c.from])
		b.WriteByte(c.mark)
		at = c.to
	}
	b.WriteString(s[at:])
	return b.String()
}

// span is a value found in a text: s[from:to], to be replaced by mark.
type span struct {
	from, to int
	mark     byte
}

// fill puts each reference's value back in place of the first occurrence of its byte, as the ALIASes'
// replaceOne does.
func fill(s string, refs []reference, e *Event) string {
	for _, r := range refs {
		if strings.IndexByte(s, r.mark) >= 0 {
			s = strings.Replace(s, string(r.mark), r.value(e), 1)
		}
	}
	return s
}

// tokenIndex returns the first index of v in s that r may cut and that overlaps none of taken, or -1.
func tokenIndex(s, v string, r reference, taken []span) int {
	for from := 0; from+len(v) <= len(s); {
		i := strings.Index(s[from:], v)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(v)
		if !overlaps(taken, i, end) && bounded(s, i, end, r) {
			return i
		}
		from = i + 1
	}
	return -1
}

// bounded reports whether s[i:end] stands as a token of its own, as r needs it.
func bounded(s string, i, end int, r reference) bool {
	if r.spaced {
		return (i == 0 || s[i-1] == ' ') && (end == len(s) || s[end] == ' ')
	}
	return (i == 0 || !isWord(s[i-1])) && (end == len(s) || !isWord(s[end]) || r.digits && isDigit(s[end]))
}

func overlaps(taken []span, from, to int) bool {
	for _, t := range taken {
		if from < t.to && t.from < to {
			return true
		}
	}
	return false
}

func isWord(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// hasMark reports whether s holds a byte that is or may become a reference: the C0 controls other than
// tab, line feed, vertical tab, form feed and carriage return.
func hasMark(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && (c < '\t' || c > '\r') {
			return true
		}
	}
	return false
}

// The renderings below match ClickHouse's of the stored column, in the ALIASes of migration 0013.

// storedTime is t as the table's DateTime64(3) holds it, or false outside the years where the renderings
// below and ClickHouse's agree for certain.
func storedTime(t time.Time) (time.Time, bool) {
	ms := t.UnixMilli()
	if ms < 946684800000 || ms >= 7258118400000 { // 2000-01-01, 2200-01-01
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// epochMillis: toString(toUnixTimestamp64Milli(timestamp)).
func epochMillis(t time.Time) string {
	st, ok := storedTime(t)
	if !ok {
		return ""
	}
	return strconv.FormatInt(st.UnixMilli(), 10)
}

// epochSecondsMillis: seconds, a dot and three digits of milliseconds, as squid writes its times.
func epochSecondsMillis(t time.Time) string {
	st, ok := storedTime(t)
	if !ok {
		return ""
	}
	ms := st.UnixMilli()
	frac := strconv.FormatInt(ms%1000+1000, 10)[1:]
	return strconv.FormatInt(ms/1000, 10) + "." + frac
}

// The layouts of japanTime: time of day ("15:04:05"), RFC 3164's stamp (time.Stamp, "Jan _2 15:04:05")
// and RFC 3339 with milliseconds and Japan's offset ("2006-01-02T15:04:05.000+09:00").
const (
	clockOnly = iota
	rfc3164
	rfc3339Millis
)

// japanTime: formatDateTime(timestamp, …, 'Asia/Tokyo') with layout's fields, written digit by digit
// (time.Format took a quarter of the writer's time for this).
func japanTime(t time.Time, layout int) string {
	st, ok := storedTime(t)
	if !ok {
		return ""
	}
	jt := st.In(japan)
	year, month, day := jt.Date()
	hour, minute, second := jt.Clock()
	var buf [40]byte
	b := buf[:0]
	two := func(n int) { b = append(b, byte('0'+n/10), byte('0'+n%10)) }
	clock := func() { two(hour); b = append(b, ':'); two(minute); b = append(b, ':'); two(second) }
	switch layout {
	case rfc3164:
		b = append(b, month.String()[:3]...)
		b = append(b, ' ')
		if day < 10 {
			b = append(b, ' ', byte('0'+day))
		} else {
			two(day)
		}
		b = append(b, ' ')
		clock()
	case rfc3339Millis:
		b = strconv.AppendInt(b, int64(year), 10)
		b = append(b, '-')
		two(int(month))
		b = append(b, '-')
		two(day)
		b = append(b, 'T')
		clock()
		ms := jt.Nanosecond() / 1e6
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		b = append(b, "+09:00"...)
	default:
		clock()
	}
	return string(b)
}

// ipv4: substring(IPv6NumToString(ip), 8) of an IPv4-mapped address, as the table stores IPv4.
func ipv4(a netip.Addr) string {
	if !a.Is4() && !a.Is4In6() {
		return ""
	}
	return a.Unmap().String()
}

// count: toString of an unsigned column; zero is left alone (it means "not given" as often as not).
func count(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}
