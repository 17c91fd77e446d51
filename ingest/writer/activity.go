package writer

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// BucketWidth is the width of the user_activity_15m rollup's buckets. Office hours, lunch breaks and
// shift changes in internal/calendar fall on quarter hours (08:30, 17:15), and Japan's offset from UTC is
// whole hours, so every bucket lies wholly inside or wholly outside a user's duty time.
const BucketWidth = 15 * time.Minute

// UserActivity is one user's events and failures in [From, To), split by the caller's calendar.
type UserActivity struct {
	User                       string
	Events, Failures           uint64
	OffHours, OffHoursFailures uint64
}

// OffHoursByUser is the hook between the activity rollup and the calendars, for the monthly report: it
// reads user_activity_15m for [from, to) and asks offHours, for each user and bucket start (UTC), whether
// that quarter hour is off duty for that user (typically: look up the user's calendar in
// internal/calendar and call its OffHours). The rollup does not know the calendars, so a calendar
// change applies to past months too. Users are returned in name order.
func OffHoursByUser(ctx context.Context, conn driver.Conn, db string, from, to time.Time,
	offHours func(user string, bucket time.Time) bool) ([]UserActivity, error) {
	if !tableIdent.MatchString(db) {
		return nil, fmt.Errorf("off hours: database %q is not a plain identifier", db)
	}
	rows, err := conn.Query(ctx, "SELECT user_name, bucket, sum(events), sum(failures) FROM `"+db+"`.user_activity_15m"+
		" WHERE bucket >= fromUnixTimestamp(?) AND bucket < fromUnixTimestamp(?) GROUP BY user_name, bucket ORDER BY user_name, bucket",
		from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("off hours: query %s.user_activity_15m: %w", db, err)
	}
	defer rows.Close()
	var out []UserActivity
	for rows.Next() {
		var user string
		var bucket time.Time
		var events, failures uint64
		if err := rows.Scan(&user, &bucket, &events, &failures); err != nil {
			return nil, fmt.Errorf("off hours: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].User != user {
			out = append(out, UserActivity{User: user})
		}
		u := &out[len(out)-1]
		u.Events += events
		u.Failures += failures
		if offHours(user, bucket.UTC()) {
			u.OffHours += events
			u.OffHoursFailures += failures
		}
	}
	return out, rows.Err()
}
