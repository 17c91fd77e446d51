// Package calendar decides whether a moment is on duty or off-hours for a
// group of users or hosts. All decisions are made in Asia/Tokyo.
//
// Three kinds of calendar exist:
//
//   - office: weekdays (Monday–Friday unless configured) between start and
//     end, optionally without a lunch break, never on national holidays nor
//     the year-end break 12/29–1/3, with extra days off and extra working days;
//   - shift: 24-hour shifts that begin every day at start (e.g. 08:30) and are
//     worked by N platoons in rotation: platoon k is on duty for the shift
//     beginning on day D when (D − rotation_start) mod N == k. Holidays do not
//     matter to a shift crew;
//   - always: on duty around the clock.
//
// Every kind accepts explicit exceptions: date or date-time ranges that force
// on duty or off duty and win over everything else.
package calendar

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kinds of calendar.
const (
	KindOffice = "office"
	KindShift  = "shift"
	KindAlways = "always"
)

// CalendarSpec is the declarative, YAML-friendly form of a calendar, as found
// in configuration and rule files:
//
//	office:
//	  kind: office
//	  start: "08:30"
//	  end: "17:15"
//	  lunch: "12:00-13:00"
//	  days_off: ["2026-08-14"]
//	  work_days: ["2026-10-04"]
//	platoon-1:
//	  kind: shift
//	  start: "08:30"
//	  platoons: 3
//	  platoon: 0
//	  rotation_start: "2026-04-01"
//	  exceptions:
//	    - {from: "2026-12-31", to: "2026-12-31", on: true, reason: "year-end reinforcement"}
type CalendarSpec struct {
	Kind string `yaml:"kind" json:"kind"`
	// Start is the start of office hours, or the shift change time (HH:MM).
	Start string `yaml:"start,omitempty" json:"start,omitempty"`
	// End is the end of office hours (HH:MM); unused by shift calendars.
	End string `yaml:"end,omitempty" json:"end,omitempty"`
	// Lunch is an optional off-duty break within office hours, "12:00-13:00".
	Lunch string `yaml:"lunch,omitempty" json:"lunch,omitempty"`
	// Weekdays are the working days of an office calendar, e.g. [mon, tue];
	// empty means Monday to Friday.
	Weekdays []string `yaml:"weekdays,omitempty" json:"weekdays,omitempty"`
	// IgnoreHolidays makes an office calendar work on national holidays.
	IgnoreHolidays bool `yaml:"ignore_holidays,omitempty" json:"ignore_holidays,omitempty"`
	// NoYearEndBreak makes an office calendar work during 12/29–1/3.
	NoYearEndBreak bool `yaml:"no_year_end_break,omitempty" json:"no_year_end_break,omitempty"`
	// DaysOff are extra days off of an office calendar (the body's own days).
	DaysOff []string `yaml:"days_off,omitempty" json:"days_off,omitempty"`
	// WorkDays are extra working days of an office calendar (office hours
	// apply even on a weekend or holiday).
	WorkDays []string `yaml:"work_days,omitempty" json:"work_days,omitempty"`
	// Platoons is the number of platoons in the rotation of a shift calendar.
	Platoons int `yaml:"platoons,omitempty" json:"platoons,omitempty"`
	// Platoon is the platoon (0 … Platoons−1) this shift calendar describes.
	Platoon int `yaml:"platoon,omitempty" json:"platoon,omitempty"`
	// RotationStart is the date whose shift platoon 0 works.
	RotationStart string `yaml:"rotation_start,omitempty" json:"rotation_start,omitempty"`
	// Exceptions force on or off duty for a range and win over the rest.
	Exceptions []ExceptionSpec `yaml:"exceptions,omitempty" json:"exceptions,omitempty"`
}

// ExceptionSpec forces a calendar on or off duty from From to To, both
// inclusive when they are dates ("2026-12-31"), or [From, To) when they are
// date-times ("2026-12-31T08:30").
type ExceptionSpec struct {
	From   string `yaml:"from" json:"from"`
	To     string `yaml:"to,omitempty" json:"to,omitempty"`
	On     bool   `yaml:"on" json:"on"`
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
}

// Options builds a Calendar in Go code; it is the parsed form of CalendarSpec.
type Options struct {
	Name string
	Kind string
	// Start and End are offsets from local midnight.
	Start, End           time.Duration
	LunchStart, LunchEnd time.Duration // zero: no lunch break
	Weekdays             []time.Weekday
	IgnoreHolidays       bool
	NoYearEndBreak       bool
	DaysOff, WorkDays    []Date
	Platoons, Platoon    int
	RotationStart        Date
	Exceptions           []Exception
	Holidays             *Holidays // nil: DefaultHolidays()
}

// Exception is a parsed ExceptionSpec: [From, To) forced on or off.
type Exception struct {
	From, To time.Time
	On       bool
	Reason   string
}

// Calendar answers on-duty questions. It is immutable and safe for
// concurrent use.
type Calendar struct {
	opts     Options
	weekdays [7]bool
	daysOff  map[Date]bool
	workDays map[Date]bool
}

// New builds a calendar from opts.
func New(opts Options) (*Calendar, error) {
	c := &Calendar{opts: opts, daysOff: map[Date]bool{}, workDays: map[Date]bool{}}
	if c.opts.Holidays == nil {
		c.opts.Holidays = DefaultHolidays()
	}
	switch opts.Kind {
	case KindOffice:
		if opts.End <= opts.Start || opts.Start < 0 || opts.End > 24*time.Hour {
			return nil, fmt.Errorf("calendar %q: office hours %s–%s: end must follow start within one day", opts.Name, clock(opts.Start), clock(opts.End))
		}
		if opts.LunchEnd != 0 && (opts.LunchEnd <= opts.LunchStart || opts.LunchStart < opts.Start || opts.LunchEnd > opts.End) {
			return nil, fmt.Errorf("calendar %q: lunch %s–%s must lie within office hours %s–%s", opts.Name, clock(opts.LunchStart), clock(opts.LunchEnd), clock(opts.Start), clock(opts.End))
		}
		wd := opts.Weekdays
		if len(wd) == 0 {
			wd = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
		}
		for _, d := range wd {
			c.weekdays[d] = true
		}
		for _, d := range opts.DaysOff {
			c.daysOff[d] = true
		}
		for _, d := range opts.WorkDays {
			c.workDays[d] = true
		}
	case KindShift:
		if opts.Platoons < 1 {
			return nil, fmt.Errorf("calendar %q: shift rotation needs platoons >= 1, got %d", opts.Name, opts.Platoons)
		}
		if opts.Platoon < 0 || opts.Platoon >= opts.Platoons {
			return nil, fmt.Errorf("calendar %q: platoon %d outside 0..%d", opts.Name, opts.Platoon, opts.Platoons-1)
		}
		if opts.RotationStart == (Date{}) {
			return nil, fmt.Errorf("calendar %q: shift rotation needs rotation_start", opts.Name)
		}
		if opts.Start < 0 || opts.Start >= 24*time.Hour {
			return nil, fmt.Errorf("calendar %q: shift start %s outside the day", opts.Name, clock(opts.Start))
		}
	case KindAlways:
	default:
		return nil, fmt.Errorf("calendar %q: unknown kind %q (want office, shift or always)", opts.Name, opts.Kind)
	}
	for i, e := range opts.Exceptions {
		if !e.To.After(e.From) {
			return nil, fmt.Errorf("calendar %q: exception %d (%s): end %s is not after start %s", opts.Name, i, e.Reason, e.To, e.From)
		}
	}
	return c, nil
}

// FromSpec parses spec and builds the calendar called name.
func FromSpec(name string, spec CalendarSpec, holidays *Holidays) (*Calendar, error) {
	opts, err := spec.Options(name)
	if err != nil {
		return nil, err
	}
	opts.Holidays = holidays
	return New(opts)
}

// Options converts the spec into Options, filling defaults (office 08:30–17:15,
// shift change 08:30).
func (s CalendarSpec) Options(name string) (Options, error) {
	o := Options{Name: name, Kind: s.Kind, IgnoreHolidays: s.IgnoreHolidays, NoYearEndBreak: s.NoYearEndBreak, Platoons: s.Platoons, Platoon: s.Platoon}
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("calendar %q: "+format, append([]any{name}, a...)...))
	}
	if o.Kind == "" {
		o.Kind = KindOffice
	}
	var err error
	o.Start = 8*time.Hour + 30*time.Minute
	if s.Start != "" {
		if o.Start, err = ParseClock(s.Start); err != nil {
			fail("start: %v", err)
		}
	}
	o.End = 17*time.Hour + 15*time.Minute
	if s.End != "" {
		if o.End, err = ParseClock(s.End); err != nil {
			fail("end: %v", err)
		}
	}
	if s.Lunch != "" {
		a, b, ok := strings.Cut(s.Lunch, "-")
		if !ok {
			fail("lunch %q: want HH:MM-HH:MM", s.Lunch)
		} else {
			if o.LunchStart, err = ParseClock(a); err != nil {
				fail("lunch: %v", err)
			}
			if o.LunchEnd, err = ParseClock(b); err != nil {
				fail("lunch: %v", err)
			}
		}
	}
	for _, w := range s.Weekdays {
		d, ok := weekdayNames[strings.ToLower(strings.TrimSpace(w))]
		if !ok {
			fail("weekday %q: want mon, tue, wed, thu, fri, sat or sun", w)
			continue
		}
		o.Weekdays = append(o.Weekdays, d)
	}
	for _, v := range s.DaysOff {
		d, err := ParseDate(v)
		if err != nil {
			fail("days_off: %v", err)
		}
		o.DaysOff = append(o.DaysOff, d)
	}
	for _, v := range s.WorkDays {
		d, err := ParseDate(v)
		if err != nil {
			fail("work_days: %v", err)
		}
		o.WorkDays = append(o.WorkDays, d)
	}
	if s.RotationStart != "" {
		if o.RotationStart, err = ParseDate(s.RotationStart); err != nil {
			fail("rotation_start: %v", err)
		}
	}
	for i, e := range s.Exceptions {
		ex, err := e.parse()
		if err != nil {
			fail("exception %d: %v", i, err)
			continue
		}
		o.Exceptions = append(o.Exceptions, ex)
	}
	return o, errors.Join(errs...)
}

func (e ExceptionSpec) parse() (Exception, error) {
	to := e.To
	if to == "" {
		to = e.From
	}
	from, _, err := parseMoment(e.From)
	if err != nil {
		return Exception{}, fmt.Errorf("from: %w", err)
	}
	end, toDate, err := parseMoment(to)
	if err != nil {
		return Exception{}, fmt.Errorf("to: %w", err)
	}
	if toDate {
		end = end.AddDate(0, 0, 1) // a date is inclusive: up to its midnight
	}
	reason := e.Reason
	if reason == "" {
		reason = "exception " + e.From + "–" + to
	}
	return Exception{From: from, To: end, On: e.On, Reason: reason}, nil
}

// parseMoment accepts a date or a date-time "2026-12-31T08:30" / "2026-12-31 08:30".
func parseMoment(s string) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if d, err := ParseDate(s); err == nil {
		return d.Time(0, 0), true, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, Tokyo()); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q: want YYYY-MM-DD or YYYY-MM-DDTHH:MM", s)
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// ParseClock parses "08:30" into an offset from midnight; "24:00" is allowed.
func ParseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func clock(d time.Duration) string {
	m := int(d / time.Minute)
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// Name returns the calendar's name.
func (c *Calendar) Name() string { return c.opts.Name }

// Kind returns office, shift or always.
func (c *Calendar) Kind() string { return c.opts.Kind }

// OnDuty reports whether t falls within the calendar's duty time.
func (c *Calendar) OnDuty(t time.Time) bool {
	on, _ := c.decide(t, false)
	return on
}

// OffHours reports whether t is outside duty time; it is !OnDuty(t).
func (c *Calendar) OffHours(t time.Time) bool { return !c.OnDuty(t) }

// Explain says why t is on duty or off-hours, e.g. "national holiday
// 勤労感謝の日", "year-end break" or "not on duty: platoon 2 rests".
func (c *Calendar) Explain(t time.Time) string {
	_, why := c.decide(t, true)
	return why
}

// decide computes the answer; the explanation is only built when asked, so
// OnDuty stays allocation-free on the hot path.
func (c *Calendar) decide(t time.Time, explain bool) (bool, string) {
	t = t.In(Tokyo())
	for _, e := range c.opts.Exceptions {
		if !t.Before(e.From) && t.Before(e.To) {
			if !explain {
				return e.On, ""
			}
			if e.On {
				return true, "on duty by exception: " + e.Reason
			}
			return false, "off duty by exception: " + e.Reason
		}
	}
	switch c.opts.Kind {
	case KindAlways:
		return true, "always on duty"
	case KindShift:
		return c.decideShift(t, explain)
	default:
		on, why := c.decideOffice(t, explain)
		if explain && !c.opts.IgnoreHolidays {
			if y := DateOf(t).Year; !c.opts.Holidays.Covers(y) {
				why += " (the holiday list has no data for " + strconv.Itoa(y) + ")"
			}
		}
		return on, why
	}
}

func (c *Calendar) decideShift(t time.Time, explain bool) (bool, string) {
	day := DateOf(t)
	since := t.Sub(day.Time(0, 0))
	if since < c.opts.Start {
		day = day.AddDays(-1) // still inside the shift that began yesterday
	}
	n := c.opts.Platoons
	onDuty := ((day.DaysSince(c.opts.RotationStart) % n) + n) % n
	if !explain {
		return onDuty == c.opts.Platoon, ""
	}
	shiftStart := day.Time(0, 0).Add(c.opts.Start)
	span := shiftStart.Format("2006-01-02 15:04") + "–" + shiftStart.AddDate(0, 0, 1).Format("2006-01-02 15:04")
	if onDuty == c.opts.Platoon {
		return true, fmt.Sprintf("on duty: platoon %d shift %s", c.opts.Platoon, span)
	}
	return false, fmt.Sprintf("not on duty: platoon %d rests (platoon %d on shift %s)", c.opts.Platoon, onDuty, span)
}

func (c *Calendar) decideOffice(t time.Time, explain bool) (bool, string) {
	day := DateOf(t)
	since := t.Sub(day.Time(0, 0))
	if !c.workDays[day] {
		if c.daysOff[day] {
			return false, "extra day off " + day.String()
		}
		if !c.opts.IgnoreHolidays {
			if name, ok := c.opts.Holidays.Name(day); ok {
				return false, "national holiday " + name
			}
		}
		if !c.opts.NoYearEndBreak && isYearEndBreak(day) {
			return false, "year-end break"
		}
		if wd := day.Weekday(); !c.weekdays[wd] {
			return false, "not a working day (" + wd.String() + ")"
		}
	}
	hours := clock(c.opts.Start) + "–" + clock(c.opts.End)
	if since < c.opts.Start || since >= c.opts.End {
		if !explain {
			return false, ""
		}
		return false, "outside office hours " + hours
	}
	if c.opts.LunchEnd != 0 && since >= c.opts.LunchStart && since < c.opts.LunchEnd {
		if !explain {
			return false, ""
		}
		return false, "lunch break " + clock(c.opts.LunchStart) + "–" + clock(c.opts.LunchEnd)
	}
	if !explain {
		return true, ""
	}
	if c.workDays[day] {
		return true, "on duty: extra working day " + day.String() + ", office hours " + hours
	}
	return true, "on duty: office hours " + hours
}

// isYearEndBreak reports 12/29–12/31 and 1/1–1/3.
func isYearEndBreak(d Date) bool {
	return (d.Month == time.December && d.Day >= 29) || (d.Month == time.January && d.Day <= 3)
}

// Set holds named calendars.
type Set struct {
	byName   map[string]*Calendar
	names    []string
	holidays *Holidays
}

// NewSet builds every calendar in specs; holidays nil means DefaultHolidays().
// All errors are reported together, each naming its calendar.
func NewSet(specs map[string]CalendarSpec, holidays *Holidays) (*Set, error) {
	if holidays == nil {
		holidays = DefaultHolidays()
	}
	s := &Set{byName: make(map[string]*Calendar, len(specs)), holidays: holidays}
	for name := range specs {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	var errs []error
	for _, name := range s.names {
		c, err := FromSpec(name, specs[name], holidays)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.byName[name] = c
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// Get returns the calendar called name.
func (s *Set) Get(name string) (*Calendar, bool) {
	c, ok := s.byName[name]
	return c, ok
}

// Names returns the calendar names in order.
func (s *Set) Names() []string { return append([]string(nil), s.names...) }

// Holidays returns the holiday list the set was built with.
func (s *Set) Holidays() *Holidays { return s.holidays }
