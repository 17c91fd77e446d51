package query

import (
	"fmt"
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

// CalendarOffHours is an OffHoursFunc over duty calendars: calendarOf names the calendar of a key
// (a user's group, e.g. from the rules' user → calendar map list). A key without a calendar is
// never off-hours; a calendar name the set does not hold is an error naming both.
func CalendarOffHours(set *calendar.Set, calendarOf func(key string) string) OffHoursFunc {
	return func(key string, t time.Time) (bool, error) {
		name := calendarOf(key)
		if name == "" {
			return false, nil
		}
		c, ok := set.Get(name)
		if !ok {
			return false, fmt.Errorf("%q is mapped to calendar %q, which is not defined (calendars: %v)", key, name, set.Names())
		}
		return c.OffHours(t), nil
	}
}
