package parse

import (
	"time"
)

// Hand-written time readers: the layouts are fixed, and time.Parse costs more than the rest of a line.
// Every reader returns UTC and refuses out-of-range fields rather than letting time.Date normalise them.

// digits reads n ASCII digits at s[i:].
func digits(s string, i, n int) (int, bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// civil builds a time from fields, refusing impossible values (a leap second :60 included).
func civil(y, mo, d, h, mi, s int, loc *time.Location) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || y < 1970 || y > 9999 {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
	if t.Day() != d { // 31 November and the like
		return time.Time{}, false
	}
	return t, true
}

// ymd reads "2026-11-02" or "2026/11/02" (any single separator).
func ymd(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != s[7] || (s[4] != '-' && s[4] != '/') {
		return 0, 0, 0, false
	}
	y, ok1 := digits(s, 0, 4)
	m, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	return y, m, d, ok1 && ok2 && ok3
}

// hms reads "09:15:01", ignoring a fractional part (".123") after it.
func hms(s string) (h, m, sec int, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	if len(s) > 8 {
		if _, ok := digits(s, 9, len(s)-9); s[8] != '.' || len(s) == 9 || len(s) > 18 || !ok {
			return 0, 0, 0, false
		}
	}
	h, ok1 := digits(s, 0, 2)
	m, ok2 := digits(s, 3, 2)
	sec, ok3 := digits(s, 6, 2)
	return h, m, sec, ok1 && ok2 && ok3
}

// dateClock reads a date ("2026-11-02", "2026/11/02") and a clock ("09:15:01") in loc.
func dateClock(date, clock string, loc *time.Location) (time.Time, bool) {
	y, mo, d, ok := ymd(date)
	if !ok {
		return time.Time{}, false
	}
	h, mi, s, ok := hms(clock)
	if !ok {
		return time.Time{}, false
	}
	t, ok := civil(y, mo, d, h, mi, s, loc)
	return t.UTC(), ok
}

// offset reads a numeric zone "+0900", "+09:00", "-0500" or "Z" into seconds east of UTC.
func offset(s string) (int, bool) {
	if s == "Z" || s == "UTC" || s == "GMT" {
		return 0, true
	}
	if len(s) != 5 && len(s) != 6 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	h, ok1 := digits(s, 1, 2)
	mi := 3
	if len(s) == 6 {
		if s[3] != ':' {
			return 0, false
		}
		mi = 4
	}
	m, ok2 := digits(s, mi, 2)
	if !ok1 || !ok2 || h > 14 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// inZone reads a civil time at a fixed offset and returns it in UTC, without making a *time.Location.
func inZone(y, mo, d, h, mi, s, off int) (time.Time, bool) {
	t, ok := civil(y, mo, d, h, mi, s, time.UTC)
	return t.Add(-time.Duration(off) * time.Second), ok
}

// month reads an English month abbreviation.
func month(s string) (int, bool) {
	switch s {
	case "Jan":
		return 1, true
	case "Feb":
		return 2, true
	case "Mar":
		return 3, true
	case "Apr":
		return 4, true
	case "May":
		return 5, true
	case "Jun":
		return 6, true
	case "Jul":
		return 7, true
	case "Aug":
		return 8, true
	case "Sep":
		return 9, true
	case "Oct":
		return 10, true
	case "Nov":
		return 11, true
	case "Dec":
		return 12, true
	}
	return 0, false
}

// clf reads the common log format time "25/Nov/2026:09:15:01 +0900" (brackets already stripped).
// A missing zone means loc.
func clf(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' {
		return time.Time{}, false
	}
	d, ok1 := digits(s, 0, 2)
	mo, ok2 := month(s[3:6])
	y, ok3 := digits(s, 7, 4)
	h, mi, sec, ok4 := hms(s[12:20])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return time.Time{}, false
	}
	rest := s[20:]
	if rest == "" {
		t, ok := civil(y, mo, d, h, mi, sec, loc)
		return t.UTC(), ok
	}
	if rest[0] != ' ' {
		return time.Time{}, false
	}
	off, ok := offset(rest[1:])
	if !ok {
		return time.Time{}, false
	}
	return inZone(y, mo, d, h, mi, sec, off)
}

// epoch reads seconds since the epoch with an optional fraction: "1764050100.123".
func epoch(s string) (time.Time, bool) {
	sec, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			sec, frac = s[:i], s[i+1:]
			break
		}
	}
	if len(sec) == 0 || len(sec) > 11 || len(frac) > 9 || (len(frac) == 0 && len(sec) != len(s)) {
		return time.Time{}, false
	}
	n, ok := atou(sec, 1<<40)
	if !ok {
		return time.Time{}, false
	}
	var ns uint64
	if frac != "" {
		f, ok := atou(frac, 999999999)
		if !ok {
			return time.Time{}, false
		}
		ns = f
		for i := len(frac); i < 9; i++ {
			ns *= 10
		}
	}
	return time.Unix(int64(n), int64(ns)).UTC(), true
}

// epochAuto reads an integer epoch whose unit follows from its length: 10 digits seconds, 13 milliseconds,
// 16 microseconds, 19 nanoseconds (FortiGate's eventtime is either, by firmware version).
func epochAuto(s string) (time.Time, bool) {
	n, ok := atou(s, 1<<63)
	if !ok {
		return time.Time{}, false
	}
	switch len(s) {
	case 9, 10:
		return time.Unix(int64(n), 0).UTC(), true
	case 12, 13:
		return time.UnixMilli(int64(n)).UTC(), true
	case 15, 16:
		return time.UnixMicro(int64(n)).UTC(), true
	case 18, 19:
		return time.Unix(0, int64(n)).UTC(), true
	}
	return time.Time{}, false
}

// isEpoch reports whether s looks like a Squid epoch: 9-11 digits, a dot, 1-9 digits.
func isEpoch(s string) bool {
	dot := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if dot >= 0 {
				return false
			}
			dot = i
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return dot >= 9 && dot <= 11 && len(s)-dot-1 >= 1 && len(s)-dot-1 <= 9
}
