package calendar

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"golang.org/x/text/encoding/japanese"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Tokyo())
	if err != nil {
		panic(err)
	}
	return t
}

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var holidays2026 = []string{"2026-01-01", "2026-01-12", "2026-02-11", "2026-02-23", "2026-03-20", "2026-04-29", "2026-05-03", "2026-05-04", "2026-05-05", "2026-05-06", "2026-07-20", "2026-08-11", "2026-09-21", "2026-09-22", "2026-09-23", "2026-10-12", "2026-11-03", "2026-11-23"}
var holidays2027 = []string{"2027-01-01", "2027-01-11", "2027-02-11", "2027-02-23", "2027-03-21", "2027-03-22", "2027-04-29", "2027-05-03", "2027-05-04", "2027-05-05", "2027-07-19", "2027-08-11", "2027-09-20", "2027-09-23", "2027-10-11", "2027-11-03", "2027-11-23"}

func TestDefaultHolidaysExact(t *testing.T) {
	h := DefaultHolidays()
	for _, year := range []struct {
		year int
		want []string
	}{{2026, holidays2026}, {2027, holidays2027}} {
		want := map[string]bool{}
		for _, d := range year.want {
			want[d] = true
			if _, ok := h.Name(mustDate(t, d)); !ok {
				t.Errorf("%s: not a holiday in the embedded list", d)
			}
		}
		// No extra days in that year.
		for _, d := range h.Dates() {
			if d.Year == year.year && !want[d.String()] {
				name, _ := h.Name(d)
				t.Errorf("%s (%s): holiday not in the Cabinet Office list", d, name)
			}
		}
	}
	for _, y := range []int{2025, 2026, 2027} {
		if !h.Covers(y) {
			t.Errorf("Covers(%d) = false", y)
		}
	}
	if h.Covers(2028) {
		t.Error("Covers(2028) = true")
	}
	if n, _ := h.Name(mustDate(t, "2026-11-23")); n != "勤労感謝の日" {
		t.Errorf("2026-11-23 name = %q", n)
	}
}

func TestDefaultHolidays2025(t *testing.T) {
	h := DefaultHolidays()
	// Substitute holidays of 2025: 2/23, 5/4 (→5/6) and 11/23 fell on Sundays.
	for _, d := range []string{"2025-02-24", "2025-05-06", "2025-11-24", "2025-01-13", "2025-07-21", "2025-09-15", "2025-10-13"} {
		if _, ok := h.Name(mustDate(t, d)); !ok {
			t.Errorf("%s: missing from 2025", d)
		}
	}
	n := 0
	for _, d := range h.Dates() {
		if d.Year == 2025 {
			n++
		}
	}
	if n != 19 {
		t.Errorf("2025 has %d holidays, want 19", n)
	}
}

func TestOfficeCalendar(t *testing.T) {
	set, err := NewSet(map[string]CalendarSpec{
		"office": {Kind: KindOffice, Start: "08:30", End: "17:15", Lunch: "12:00-13:00",
			DaysOff: []string{"2026-08-14"}, WorkDays: []string{"2026-10-04"}},
		"office-nolunch": {Kind: KindOffice},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	office, _ := set.Get("office")
	plain, _ := set.Get("office-nolunch")
	tests := []struct {
		cal     *Calendar
		at      string
		on      bool
		explain string
	}{
		{office, "2026-11-02 09:15", true, "on duty: office hours 08:30–17:15"},
		{office, "2026-11-02 08:29", false, "outside office hours 08:30–17:15"},
		{office, "2026-11-02 08:30", true, "on duty"},
		{office, "2026-11-02 17:14", true, "on duty"},
		{office, "2026-11-02 17:15", false, "outside office hours"},
		{office, "2026-11-02 12:30", false, "lunch break 12:00–13:00"},
		{plain, "2026-11-02 12:30", true, "on duty"},
		{office, "2026-11-23 10:00", false, "national holiday 勤労感謝の日"},
		{office, "2026-11-22 10:00", false, "not a working day (Sunday)"},
		{office, "2026-11-21 10:00", false, "not a working day (Saturday)"},
		{office, "2026-12-28 10:00", true, "on duty"},
		{office, "2026-12-29 10:00", false, "year-end break"},
		{office, "2026-12-30 10:00", false, "year-end break"},
		{office, "2026-12-31 10:00", false, "year-end break"},
		{office, "2027-01-01 10:00", false, "national holiday 元日"},
		{office, "2027-01-02 10:00", false, "year-end break"},
		{office, "2027-01-03 10:00", false, "year-end break"},
		{office, "2027-01-04 10:00", true, "on duty"},
		{office, "2026-08-14 10:00", false, "extra day off 2026-08-14"},
		{office, "2026-10-04 10:00", true, "on duty: extra working day 2026-10-04"},
		{office, "2026-10-04 18:00", false, "outside office hours"},
		{office, "2026-11-29 03:00", false, "not a working day (Sunday)"},
		{office, "2031-01-13 10:00", true, "on duty: office hours 08:30–17:15 (the holiday list has no data for 2031)"},
	}
	for _, tt := range tests {
		t.Run(tt.cal.Name()+"/"+tt.at, func(t *testing.T) {
			tm := at(tt.at)
			if got := tt.cal.OnDuty(tm); got != tt.on {
				t.Errorf("OnDuty = %v, want %v (%s)", got, tt.on, tt.cal.Explain(tm))
			}
			if got := tt.cal.OffHours(tm); got == tt.on {
				t.Errorf("OffHours = %v, want %v", got, !tt.on)
			}
			if got := tt.cal.Explain(tm); !strings.HasPrefix(got, tt.explain) {
				t.Errorf("Explain = %q, want prefix %q", got, tt.explain)
			}
		})
	}
}

func TestOfficeEveryHolidayOff(t *testing.T) {
	c, err := FromSpec("office", CalendarSpec{Kind: KindOffice}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range append(append([]string{}, holidays2026...), holidays2027...) {
		tm := mustDate(t, d).Time(10, 0)
		if c.OnDuty(tm) {
			t.Errorf("%s 10:00: office on duty on a national holiday", d)
		}
		if got := c.Explain(tm); !strings.HasPrefix(got, "national holiday ") {
			t.Errorf("%s: Explain = %q", d, got)
		}
	}
}

func TestShiftRotation(t *testing.T) {
	specs := map[string]CalendarSpec{}
	for k, name := range []string{"p0", "p1", "p2"} {
		specs[name] = CalendarSpec{Kind: KindShift, Start: "08:30", Platoons: 3, Platoon: k, RotationStart: "2026-04-01"}
	}
	set, err := NewSet(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   string
		duty string // the platoon on duty
	}{
		{"2026-04-01 08:30", "p0"},
		{"2026-04-01 23:59", "p0"},
		{"2026-04-02 00:00", "p0"}, // across midnight the same shift goes on
		{"2026-04-02 08:29", "p0"},
		{"2026-04-02 08:30", "p1"}, // shift change
		{"2026-04-03 08:30", "p2"},
		{"2026-04-04 08:30", "p0"},
		{"2026-04-01 08:29", "p2"}, // before the start date, rotation extends backwards
		{"2026-03-31 09:00", "p2"},
		{"2026-03-30 09:00", "p1"},
		{"2026-11-23 10:00", "p2"}, // holidays do not matter: 236 days after start
		{"2026-11-29 03:00", "p1"}, // Sunday night shift of 11/28 (241 days after start)
		{"2027-01-01 10:00", "p2"}, // 275 days after start
		{"2027-01-01 08:00", "p1"}, // still the 12/31 shift (274 days)
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			tm := at(tt.at)
			for _, name := range set.Names() {
				c, _ := set.Get(name)
				want := name == tt.duty
				if got := c.OnDuty(tm); got != want {
					t.Errorf("%s OnDuty = %v, want %v (%s)", name, got, want, c.Explain(tm))
				}
			}
		})
	}
	p2, _ := set.Get("p2")
	if got := p2.Explain(at("2026-04-01 10:00")); !strings.HasPrefix(got, "not on duty: platoon 2 rests") {
		t.Errorf("Explain = %q", got)
	}
	if got := p2.Explain(at("2026-04-03 10:00")); !strings.HasPrefix(got, "on duty: platoon 2 shift 2026-04-03 08:30–2026-04-04 08:30") {
		t.Errorf("Explain = %q", got)
	}
}

func TestTwoPlatoonsAlternate(t *testing.T) {
	c, err := FromSpec("a", CalendarSpec{Kind: KindShift, Start: "08:30", Platoons: 2, Platoon: 1, RotationStart: "2026-01-01"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := mustDate(t, "2026-01-01")
	for i := range 800 {
		d := day.AddDays(i)
		want := i%2 == 1
		if got := c.OnDuty(d.Time(12, 0)); got != want {
			t.Fatalf("%s 12:00: OnDuty = %v, want %v", d, got, want)
		}
		if got := c.OnDuty(d.Time(8, 0)); got != !want {
			t.Fatalf("%s 08:00: OnDuty = %v, want %v", d, got, !want)
		}
	}
}

func TestExceptionsAndAlways(t *testing.T) {
	set, err := NewSet(map[string]CalendarSpec{
		"office": {Kind: KindOffice, Exceptions: []ExceptionSpec{
			{From: "2026-12-29", To: "2026-12-30", On: true, Reason: "year-end duty"},
			{From: "2026-11-02T13:00", To: "2026-11-02T15:00", On: false, Reason: "power outage drill"},
		}},
		"always": {Kind: KindAlways, Exceptions: []ExceptionSpec{{From: "2026-06-01", On: false, Reason: "maintenance"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	office, _ := set.Get("office")
	always, _ := set.Get("always")
	tests := []struct {
		c       *Calendar
		at      string
		on      bool
		explain string
	}{
		{office, "2026-12-29 03:00", true, "on duty by exception: year-end duty"},
		{office, "2026-12-30 23:59", true, "on duty by exception"},
		{office, "2026-12-31 10:00", false, "year-end break"},
		{office, "2026-11-02 14:00", false, "off duty by exception: power outage drill"},
		{office, "2026-11-02 15:00", true, "on duty"},
		{always, "2026-05-31 23:59", true, "always on duty"},
		{always, "2026-06-01 12:00", false, "off duty by exception: maintenance"},
		{always, "2026-06-02 00:00", true, "always on duty"},
	}
	for _, tt := range tests {
		tm := at(tt.at)
		if got := tt.c.OnDuty(tm); got != tt.on {
			t.Errorf("%s %s: OnDuty = %v, want %v", tt.c.Name(), tt.at, got, tt.on)
		}
		if got := tt.c.Explain(tm); !strings.HasPrefix(got, tt.explain) {
			t.Errorf("%s %s: Explain = %q, want prefix %q", tt.c.Name(), tt.at, got, tt.explain)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		spec CalendarSpec
		want string
	}{
		{"bad-kind", CalendarSpec{Kind: "weekly"}, `calendar "bad-kind": unknown kind "weekly"`},
		{"bad-start", CalendarSpec{Start: "8h30"}, `calendar "bad-start": start: time of day "8h30"`},
		{"reversed", CalendarSpec{Start: "17:00", End: "09:00"}, "end must follow start"},
		{"lunch-out", CalendarSpec{Lunch: "07:00-08:00"}, "must lie within office hours"},
		{"no-platoons", CalendarSpec{Kind: KindShift, RotationStart: "2026-01-01"}, "platoons >= 1"},
		{"platoon-range", CalendarSpec{Kind: KindShift, Platoons: 3, Platoon: 3, RotationStart: "2026-01-01"}, "platoon 3 outside 0..2"},
		{"no-start", CalendarSpec{Kind: KindShift, Platoons: 3}, "needs rotation_start"},
		{"bad-date", CalendarSpec{DaysOff: []string{"2026-02-30"}}, `date "2026-02-30": no such day`},
		{"bad-weekday", CalendarSpec{Weekdays: []string{"funday"}}, `weekday "funday"`},
		{"bad-exception", CalendarSpec{Exceptions: []ExceptionSpec{{From: "tomorrow"}}}, `exception 0: from: "tomorrow"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSet(map[string]CalendarSpec{tt.name: tt.spec}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSpecYAML(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "calendars.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var specs map[string]CalendarSpec
	if err := yaml.Unmarshal(data, &specs); err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Names(), ","); got != "always,office,shift-1,shift-2,shift-3" {
		t.Fatalf("names = %s", got)
	}
	s1, _ := set.Get("shift-1")
	if !s1.OnDuty(at("2026-04-01 20:00")) {
		t.Errorf("shift-1 not on duty on its first shift: %s", s1.Explain(at("2026-04-01 20:00")))
	}
	office, _ := set.Get("office")
	if office.OnDuty(at("2026-11-02 12:10")) {
		t.Error("office on duty during lunch")
	}
}

func TestTokyoHasNoDST(t *testing.T) {
	loc := Tokyo()
	if loc.String() != "Asia/Tokyo" {
		t.Errorf("location name %q", loc)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for h := 0; h < 3*366*24; h++ {
		tm := start.Add(time.Duration(h) * time.Hour).In(loc)
		if _, off := tm.Zone(); off != 9*3600 {
			t.Fatalf("%s: offset %d, want +09:00", tm, off)
		}
	}
	// 23:59 UTC is 08:59 next day in Tokyo: the date is taken in Tokyo.
	if d := DateOf(time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC)); d.String() != "2026-11-23" {
		t.Errorf("DateOf = %s", d)
	}
}

func TestSyukujitsuShiftJIS(t *testing.T) {
	utf := "国民の祝日・休日月日,国民の祝日・休日名称\r\n2028/1/1,元日\r\n2028/1/10,成人の日\r\n2028/11/23,勤労感謝の日\r\n"
	sjis, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(utf))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sjis, []byte("元日")) {
		t.Fatal("fixture is not Shift_JIS")
	}
	path := filepath.Join(t.TempDir(), "syukujitsu.csv")
	if err := os.WriteFile(path, sjis, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := LoadHolidays(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != 3 {
		t.Fatalf("Len = %d, want 3", h.Len())
	}
	if n, ok := h.Name(mustDate(t, "2028-11-23")); !ok || n != "勤労感謝の日" {
		t.Errorf("2028-11-23 = %q %v", n, ok)
	}
	if n, ok := h.Name(mustDate(t, "2028-01-10")); !ok || n != "成人の日" {
		t.Errorf("2028-01-10 = %q %v", n, ok)
	}
	// Same via ParseSyukujitsu directly.
	if _, err := ParseSyukujitsu(bytes.NewReader(sjis)); err != nil {
		t.Fatal(err)
	}
	// Merge keeps 2025–2027 and adds 2028.
	m := DefaultHolidays().Merge(h)
	if !m.Covers(2026) || !m.Covers(2028) {
		t.Error("merged list does not cover 2026 and 2028")
	}
	c, err := FromSpec("office", CalendarSpec{}, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Explain(at("2028-01-10 10:00")); got != "national holiday 成人の日" {
		t.Errorf("Explain = %q", got)
	}
}

func TestHolidayParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"date,name\n2026-13-01,x\n", `line 2: date "2026-13-01": no such day`},
		{"date,name\n2026-01-01\n", `line 2 "2026-01-01": want date,name`},
		{"date,name\n2026-01-01,\n", "empty holiday name"},
		{"date,name\n", "no holidays found"},
		{"date,name\n2026-01-01,a\n2026/1/1,b\n", "listed twice"},
	}
	for _, tt := range tests {
		_, err := ParseHolidays(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseHolidays(%q) err = %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := LoadHolidays("testdata/missing.csv"); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("LoadHolidays missing: %v", err)
	}
}
