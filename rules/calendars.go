package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

// CalendarSet adapts internal/calendar's Set to the Calendars the functions use.
func CalendarSet(s *calendar.Set) Calendars { return calendarSet{s} }

type calendarSet struct{ s *calendar.Set }

func (c calendarSet) OffHours(name string, t time.Time) (bool, error) {
	cal, ok := c.s.Get(name)
	if !ok {
		return false, fmt.Errorf("no calendar named %q (known: %s): define it under calendars:", name, strings.Join(c.s.Names(), ", "))
	}
	return cal.OffHours(t), nil
}

// CalendarsFunc adapts a function to Calendars (tests, simple deployments).
type CalendarsFunc func(name string, t time.Time) (bool, error)

// OffHours implements Calendars.
func (f CalendarsFunc) OffHours(name string, t time.Time) (bool, error) { return f(name, t) }
