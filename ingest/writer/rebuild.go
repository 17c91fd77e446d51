package writer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Rollup is a materialised view of events and the table it feeds (migrations 0005 and 0009).
type Rollup struct {
	View, Table string
	// Bucket is the table's time column: the start of the hour (or quarter hour) a row counts.
	Bucket string
}

// Rollups are zonewatch's rollups.
var Rollups = []Rollup{
	{"events_hourly_mv", "events_hourly", "hour"},
	{"proxy_categories_hourly_mv", "proxy_categories_hourly", "hour"},
	{"source_health_hourly_mv", "source_health_hourly", "hour"},
	{"user_activity_15m_mv", "user_activity_15m", "bucket"},
	{"user_zones_hourly_mv", "user_zones_hourly", "hour"},
}

// RebuildRollups recomputes every rollup's rows for the buckets in [from, to) (widened to whole hours)
// from the events table, with the views' own SELECT read from system.tables, so it cannot drift from
// the migrations. It is the repair for the one duplicate-avoidance gap (see the package documentation)
// and for rollups added after events were stored. Run it for closed hours only: events that arrive for
// those hours while it runs may be counted twice.
func RebuildRollups(ctx context.Context, conn driver.Conn, db string, from, to time.Time) error {
	if !tableIdent.MatchString(db) {
		return fmt.Errorf("rebuild rollups: database %q is not a plain identifier", db)
	}
	from, to = from.UTC().Truncate(time.Hour), to.UTC().Add(time.Hour-1).Truncate(time.Hour)
	for _, r := range Rollups {
		var sel string
		if err := conn.QueryRow(ctx, "SELECT as_select FROM system.tables WHERE database = ? AND name = ?", db, r.View).Scan(&sel); err != nil {
			return fmt.Errorf("rebuild rollups: read the view %s.%s: %w", db, r.View, err)
		}
		cols, err := columnsOf(ctx, conn, db, r.Table)
		if err != nil {
			return err
		}
		where := fmt.Sprintf("%s >= fromUnixTimestamp(%d) AND %s < fromUnixTimestamp(%d)", r.Bucket, from.Unix(), r.Bucket, to.Unix())
		del := fmt.Sprintf("ALTER TABLE `%s`.`%s` DELETE WHERE %s SETTINGS mutations_sync = 2", db, r.Table, where)
		if err := conn.Exec(ctx, del); err != nil {
			return fmt.Errorf("rebuild rollups: %s: %w", del, err)
		}
		list := strings.Join(cols, ", ")
		ins := fmt.Sprintf("INSERT INTO `%s`.`%s` (%s) SELECT %s FROM (%s) WHERE %s", db, r.Table, list, list, sel, where)
		if err := conn.Exec(ctx, ins); err != nil {
			return fmt.Errorf("rebuild rollups: refill %s.%s: %w", db, r.Table, err)
		}
	}
	return nil
}

func columnsOf(ctx context.Context, conn driver.Conn, db, table string) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = ? ORDER BY position", db, table)
	if err != nil {
		return nil, fmt.Errorf("rebuild rollups: columns of %s.%s: %w", db, table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, "`"+c+"`")
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("rebuild rollups: %s.%s has no columns (not migrated?)", db, table)
	}
	return cols, rows.Err()
}
