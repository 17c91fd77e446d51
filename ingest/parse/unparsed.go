package parse

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Unparsed says why a body was not (fully) understood. Parse returns it with format "syslog" when no parser
// recognised the body, and with the recognised format when a parser knew the format but a field was broken
// (Field and Value then name the culprit). The event may be partly filled; the caller keeps the raw text.
type Unparsed struct {
	Format string // the format recognised, or "syslog" when none was
	Field  string // the field that failed, in the device's own vocabulary ("srcip", "SRC" …); "" when none
	Value  string // the offending value, cut to maxErrValue bytes
	Reason string // what was wrong
}

// maxErrValue bounds the value quoted in an error, so a hostile line cannot blow up the error text.
const maxErrValue = 64

func (u *Unparsed) Error() string {
	var b strings.Builder
	b.WriteString("parse ")
	b.WriteString(u.Format)
	b.WriteString(": ")
	if u.Field != "" {
		b.WriteString("field ")
		b.WriteString(u.Field)
		b.WriteString(" ")
		b.WriteString(strconv.Quote(u.Value))
		b.WriteString(": ")
	}
	b.WriteString(u.Reason)
	return b.String()
}

// fieldErr builds the error for a broken field of a recognised format.
func fieldErr(format, field, value, reason string) *Unparsed {
	return &Unparsed{Format: format, Field: field, Value: cut(value, maxErrValue), Reason: reason}
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
