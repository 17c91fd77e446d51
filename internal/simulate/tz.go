package simulate

import (
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

func tokyo() *time.Location { return calendar.Tokyo() }
