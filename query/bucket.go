package query

import (
	"fmt"
	"time"
)

// DayZone is the time zone whose midnight starts buckets of whole days: the SOC and the monthly
// report count Japanese days (00:00 JST is 15:00 UTC the day before). Japan has kept +09:00 without
// daylight saving time since 1951, so dayOffset is fixed, and a day is whole hours of UTC: the hourly
// rollups answer day buckets exactly.
const DayZone = "Asia/Tokyo"

const (
	dayOffset = 9 * 60 * 60 // seconds east of UTC in DayZone
	day       = 24 * time.Hour
)

// BucketSQL is the SQL expression of the start of the bucket of length b that holds the time
// column col (as DateTime in UTC). Buckets shorter than a day, or not whole days, are whole
// intervals from the Unix epoch (ClickHouse's toStartOfInterval); whole days start at midnight in
// DayZone, whole weeks on Monday there. BucketStart computes the same in Go.
func BucketSQL(col string, b time.Duration) string {
	switch days := int64(b / day); {
	case b%day != 0:
		return fmt.Sprintf("toStartOfInterval(%s, INTERVAL %d SECOND)", col, int64(b/time.Second))
	case days%7 == 0:
		// Weeks come back as a Date: the midnight of that date in DayZone.
		return fmt.Sprintf("toTimeZone(toDateTime(toStartOfInterval(%s, INTERVAL %d WEEK, '%s'), '%[3]s'), 'UTC')", col, days/7, DayZone)
	default:
		return fmt.Sprintf("toTimeZone(toStartOfInterval(%s, INTERVAL %d DAY, '%s'), 'UTC')", col, days, DayZone)
	}
}

// BucketStart returns the start of the bucket of length b (whole seconds, positive) that holds t,
// in UTC, as BucketSQL computes it in ClickHouse.
func BucketStart(t time.Time, b time.Duration) time.Time {
	u := t.Unix()
	if b%day != 0 {
		s := int64(b / time.Second)
		return time.Unix(floorDiv(u, s)*s, 0).UTC()
	}
	days := int64(b / day)
	dn := floorDiv(u+dayOffset, 86400) // the day number in DayZone
	if days%7 == 0 {
		// ClickHouse counts weeks from Monday 1970-01-05 (day 4): 1970-01-01 was a Thursday.
		dn = 4 + floorDiv(dn-4, days)*days
	} else {
		dn = floorDiv(dn, days) * days
	}
	return time.Unix(dn*86400-dayOffset, 0).UTC()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
