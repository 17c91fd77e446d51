package filter

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"

	"github.com/zonewatch/zonewatch/internal/event"
)

// The events table stores a message as a template with the values of typed columns cut out, and
// `message` is an ALIAS that puts them back (migration 0013): computing it costs about ten string
// passes a row, which a search over weeks pays on every row it reads. A pattern that can only match
// text with none of event.ValueChars, no space and no control byte cannot overlap a cut-out number or
// address, nor reach past the spaces around a cut-out URL or user name. Such a pattern matches the
// message exactly when it matches the template or, in a row with references, the URL or the user it
// refers to; messageMatch writes that condition, which reads the template and those two columns only.

// templateColumn is the events table's stored message (migration 0013).
const templateColumn = "message_template"

// anchors says where a pattern must match: anywhere, at the start, at the end, or the whole text.
type anchors struct{ start, end bool }

// messageMatch returns the condition "op(message, p)" over the template, for a pattern the caller has
// found textFree (or regexpAnchors accepted); for any other the caller uses the ALIAS. op is a
// ClickHouse function of (haystack, pattern); position(…) > 0 is written as op "contains".
func messageMatch(op, p string, a anchors) string {
	test := func(haystack string) string {
		if op == "contains" {
			return "position(" + haystack + ", " + p + ") > 0"
		}
		return op + "(" + haystack + ", " + p + ")"
	}
	ref := func(b byte) string {
		mark := fmt.Sprintf("char(%d)", b) // no quoted literal: SQL holds only the engine's own (query/api's hostile-input test)
		switch {
		case a.start && a.end:
			return templateColumn + " = " + mark
		case a.start:
			return "startsWith(" + templateColumn + ", " + mark + ")"
		case a.end:
			return "endsWith(" + templateColumn + ", " + mark + ")"
		}
		return "position(" + templateColumn + ", " + mark + ") > 0"
	}
	return "(" + test(templateColumn) + " OR (NOT verbatim AND (" +
		ref(event.RefURL) + " AND " + test("url_original") + " OR " +
		ref(event.RefUser) + " AND " + test("user_name") + ")))"
}

// textFree reports whether s has none of the characters a cut-out value or its surroundings hold.
func textFree(s string) bool {
	for _, r := range s {
		if valueRune(r) {
			return false
		}
	}
	return true
}

func valueRune(r rune) bool {
	return r <= ' ' || r == 0x7f || strings.ContainsRune(event.ValueChars, r)
}

// regexpAnchors returns the anchors of a regular expression (Go syntax, as the filter compiles it)
// whose every match is textFree, and false for any other: one that may match a digit, a dot, a
// colon, a space or a control byte (., [^x], \d, \s …), or has anchors other than a leading ^ and a
// trailing $, word boundaries or multi-line flags.
func regexpAnchors(pattern string) (anchors, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return anchors{}, false
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var a anchors
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		a.start, subs = true, subs[1:]
	}
	if len(subs) > 0 && subs[len(subs)-1].Op == syntax.OpEndText {
		a.end, subs = true, subs[:len(subs)-1]
	}
	for _, s := range subs {
		if !textFreeRegexp(s) {
			return anchors{}, false
		}
	}
	return a, true
}

func textFreeRegexp(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			for f := r; ; {
				if valueRune(f) {
					return false
				}
				if re.Flags&syntax.FoldCase == 0 {
					break
				}
				if f = unicode.SimpleFold(f); f == r {
					break
				}
			}
		}
		return true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo <= ' ' || lo <= 0x7f && hi >= 0x7f {
				return false
			}
			for _, c := range event.ValueChars {
				if lo <= c && c <= hi {
					return false
				}
			}
		}
		return true
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat, syntax.OpConcat, syntax.OpAlternate:
		for _, s := range re.Sub {
			if !textFreeRegexp(s) {
				return false
			}
		}
		return true
	}
	return false // any character, anchors inside, word boundaries
}
