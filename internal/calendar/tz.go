package calendar

import (
	"sync"
	"time"
)

// tokyo is computed once and never changes afterwards.
var tokyo = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	// Japan has observed no daylight saving time since 1951, so a fixed
	// +09:00 zone is exact for every date zonewatch will ever see.
	return time.FixedZone("Asia/Tokyo", 9*60*60)
})

// Tokyo returns the Asia/Tokyo location, falling back to a fixed +09:00 zone
// of the same name when the system has no tzdata.
func Tokyo() *time.Location { return tokyo() }
