package calendar

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// defaultHolidaysCSV is the Cabinet Office (内閣府) list of national holidays
// for 2025–2027, transcribed to UTF-8 with ISO dates. Substitute holidays
// (振替休日) and citizens' holidays (国民の休日) carry the name "休日", as in
// the official syukujitsu.csv.
//
//go:embed data/holidays.csv
var defaultHolidaysCSV []byte

// Holidays is an immutable set of national holidays keyed by date in
// Asia/Tokyo.
type Holidays struct {
	names    map[Date]string
	minYear  int
	maxYear  int
	numDates int
}

// DefaultHolidays returns the holiday list shipped with zonewatch.
func DefaultHolidays() *Holidays {
	h, err := ParseHolidays(bytes.NewReader(defaultHolidaysCSV))
	if err != nil {
		// The embedded file is covered by tests; failing here is a build defect.
		panic(fmt.Sprintf("calendar: embedded holidays.csv: %v", err))
	}
	return h
}

// LoadHolidays reads a holiday list from path. Both the embedded UTF-8 layout
// (`date,name`, ISO dates) and the Cabinet Office syukujitsu.csv layout
// (Shift_JIS, `国民の祝日・休日月日,国民の祝日・休日名称`, dates like 2026/1/1)
// are accepted; the encoding is detected.
func LoadHolidays(path string) (*Holidays, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load holidays: %w", err)
	}
	defer f.Close()
	h, err := ParseHolidays(f)
	if err != nil {
		return nil, fmt.Errorf("load holidays from %s: %w", path, err)
	}
	return h, nil
}

// ParseSyukujitsu parses the Cabinet Office syukujitsu.csv in Shift_JIS.
func ParseSyukujitsu(r io.Reader) (*Holidays, error) {
	return parseUTF8(transform.NewReader(r, japanese.ShiftJIS.NewDecoder()))
}

// ParseHolidays parses a holiday CSV in UTF-8 (optionally with a BOM) or, when
// the input is not valid UTF-8, in Shift_JIS.
func ParseHolidays(r io.Reader) (*Holidays, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read holidays: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return ParseSyukujitsu(bytes.NewReader(data))
	}
	return parseUTF8(bytes.NewReader(data))
}

func parseUTF8(r io.Reader) (*Holidays, error) {
	h := &Holidays{names: make(map[Date]string)}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if text == "" {
			continue
		}
		dateField, name, ok := strings.Cut(text, ",")
		if !ok {
			return nil, fmt.Errorf("line %d %q: want date,name", line, text)
		}
		dateField = strings.Trim(strings.TrimSpace(dateField), `"`)
		name = strings.Trim(strings.TrimSpace(name), `"`)
		if line == 1 && !startsWithDigit(dateField) {
			continue // header: date,name or 国民の祝日・休日月日,国民の祝日・休日名称
		}
		d, err := ParseDate(dateField)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if name == "" {
			return nil, fmt.Errorf("line %d %q: empty holiday name", line, text)
		}
		if prev, dup := h.names[d]; dup && prev != name {
			return nil, fmt.Errorf("line %d: date %s listed twice (%s, %s)", line, d, prev, name)
		}
		h.add(d, name)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read holidays line %d: %w", line+1, err)
	}
	if len(h.names) == 0 {
		return nil, fmt.Errorf("no holidays found")
	}
	return h, nil
}

func (h *Holidays) add(d Date, name string) {
	if _, ok := h.names[d]; !ok {
		h.numDates++
	}
	h.names[d] = name
	if h.minYear == 0 || d.Year < h.minYear {
		h.minYear = d.Year
	}
	if d.Year > h.maxYear {
		h.maxYear = d.Year
	}
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// Merge returns a new list: the years covered by o replace the same years of
// h, other years of h are kept. Use it to apply an operator's newer
// syukujitsu.csv on top of the shipped list.
func (h *Holidays) Merge(o *Holidays) *Holidays {
	out := &Holidays{names: make(map[Date]string, len(h.names)+len(o.names))}
	covered := make(map[int]bool)
	for d := range o.names {
		covered[d.Year] = true
	}
	for d, n := range h.names {
		if !covered[d.Year] {
			out.add(d, n)
		}
	}
	for d, n := range o.names {
		out.add(d, n)
	}
	return out
}

// Name returns the holiday's name for date d, and whether d is a holiday.
func (h *Holidays) Name(d Date) (string, bool) {
	if h == nil {
		return "", false
	}
	n, ok := h.names[d]
	return n, ok
}

// Covers reports whether the list holds data for year.
func (h *Holidays) Covers(year int) bool {
	return h != nil && year >= h.minYear && year <= h.maxYear
}

// Len is the number of holiday dates.
func (h *Holidays) Len() int { return h.numDates }

// Dates returns all holiday dates in order.
func (h *Holidays) Dates() []Date {
	out := make([]Date, 0, len(h.names))
	for d := range h.names {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// Date is a civil date in Asia/Tokyo.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the Asia/Tokyo civil date of t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Tokyo()).Date()
	return Date{y, m, d}
}

// ParseDate parses 2026-01-02, 2026/1/2 or 20260102.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	var parts []string
	switch {
	case strings.Contains(s, "-"):
		parts = strings.Split(s, "-")
	case strings.Contains(s, "/"):
		parts = strings.Split(s, "/")
	case len(s) == 8:
		parts = []string{s[:4], s[4:6], s[6:]}
	}
	if len(parts) != 3 {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD or YYYY/M/D", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return Date{}, fmt.Errorf("date %q: %q is not a number", s, p)
		}
		n[i] = v
	}
	d := Date{n[0], time.Month(n[1]), n[2]}
	if n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || d.Time(0, 0).Day() != n[2] {
		return Date{}, fmt.Errorf("date %q: no such day", s)
	}
	return d, nil
}

// Time returns hh:mm on d in Asia/Tokyo.
func (d Date) Time(hour, min int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hour, min, 0, 0, Tokyo())
}

// AddDays returns d shifted by n days.
func (d Date) AddDays(n int) Date {
	y, m, dd := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC).Date()
	return Date{y, m, dd}
}

// DaysSince returns the number of days from o to d (negative if d is earlier).
func (d Date) DaysSince(o Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	b := time.Date(o.Year, o.Month, o.Day, 0, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Hours() / 24)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.key() < o.key() }

func (d Date) key() int { return d.Year*10000 + int(d.Month)*100 + d.Day }

// String formats d as 2026-01-02.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}
