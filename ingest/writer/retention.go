package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Retention keeps each table's data for a number of months and drops older data a whole monthly
// partition at a time (ALTER TABLE … DROP PARTITION ID), which is instant and leaves no mutation behind.
// Every zonewatch table is partitioned by toYYYYMM of its time column (UTC); a table partitioned
// otherwise is left alone.
type Retention struct {
	// Database holds the tables; default "zonewatch".
	Database string
	// Months maps a table name to how many whole months before the current one (UTC) it keeps: with 12,
	// on 2026-11-25 the partitions 202511 … 202611 stay and 202510 and older go. A table that is not
	// listed, or has 0, is kept forever.
	Months map[string]int
	// Logger receives one line per dropped partition; default discards.
	Logger *slog.Logger
}

// DefaultRetentionMonths are the suggested months per table: raw events for 13 months (a year back
// from any day of the month, plus the month before for the monthly report), rollups and alerts for five
// years, dead letters for three months, the query audit as long as the alerts.
func DefaultRetentionMonths() map[string]int {
	return map[string]int{
		"events":                  13,
		"dead_letters":            3,
		"alerts":                  60,
		"alert_actions":           60,
		"audit":                   60, // who queried what: kept as long as the alerts they looked at
		"events_hourly":           60,
		"proxy_categories_hourly": 60,
		"source_health_hourly":    13,
		"user_activity_15m":       25,
		"user_zones_hourly":       60,
	}
}

// PartitionDrop is one partition Plan would drop.
type PartitionDrop struct {
	Table       string
	PartitionID string    // e.g. "202410"
	Month       time.Time // first instant of the partition's month, UTC
	Rows, Bytes uint64    // of its active parts
}

var (
	yyyymm      = regexp.MustCompile(`^\d{6}$`)
	monthlyKey  = regexp.MustCompile(`^toYYYYMM\(`)
	tableIdent  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	errNegative = errors.New("retention months must not be negative")
)

// Validate reports a negative month count or a table name that is not a plain identifier.
func (r Retention) Validate() error {
	for t, m := range r.Months {
		if !tableIdent.MatchString(t) {
			return fmt.Errorf("retention: table %q is not a plain identifier", t)
		}
		if m < 0 {
			return fmt.Errorf("retention: %s: %d: %w", t, m, errNegative)
		}
	}
	if r.Database != "" && !tableIdent.MatchString(r.Database) {
		return fmt.Errorf("retention: database %q is not a plain identifier", r.Database)
	}
	return nil
}

// Cutoff is the first month a table with months of retention keeps at now.
func Cutoff(now time.Time, months int) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -months, 0)
}

// Plan lists the partitions older than each table's retention, from system.parts, oldest first.
func (r Retention) Plan(ctx context.Context, conn driver.Conn, now time.Time) ([]PartitionDrop, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	db := r.database()
	var tables []string
	for t, m := range r.Months {
		if m > 0 {
			tables = append(tables, t)
		}
	}
	if len(tables) == 0 {
		return nil, nil
	}
	monthly, err := monthlyTables(ctx, conn, db, tables)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT table, partition_id, sum(rows), sum(bytes_on_disk) FROM system.parts
		WHERE database = ? AND active AND table IN (?) GROUP BY table, partition_id ORDER BY partition_id, table`, db, tables)
	if err != nil {
		return nil, fmt.Errorf("retention: read partitions of %s from system.parts: %w", db, err)
	}
	defer rows.Close()
	var drops []PartitionDrop
	for rows.Next() {
		var d PartitionDrop
		if err := rows.Scan(&d.Table, &d.PartitionID, &d.Rows, &d.Bytes); err != nil {
			return nil, fmt.Errorf("retention: read partitions: %w", err)
		}
		if !monthly[d.Table] || !yyyymm.MatchString(d.PartitionID) {
			continue
		}
		y, _ := strconv.Atoi(d.PartitionID[:4])
		m, _ := strconv.Atoi(d.PartitionID[4:])
		if m < 1 || m > 12 {
			continue
		}
		d.Month = time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		if d.Month.Before(Cutoff(now, r.Months[d.Table])) {
			drops = append(drops, d)
		}
	}
	return drops, rows.Err()
}

// monthlyTables says which of tables exist and are partitioned by toYYYYMM(…).
func monthlyTables(ctx context.Context, conn driver.Conn, db string, tables []string) (map[string]bool, error) {
	rows, err := conn.Query(ctx, "SELECT name, partition_key FROM system.tables WHERE database = ? AND name IN (?)", db, tables)
	if err != nil {
		return nil, fmt.Errorf("retention: read partition keys of %s: %w", db, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name, key string
		if err := rows.Scan(&name, &key); err != nil {
			return nil, err
		}
		out[name] = monthlyKey.MatchString(strings.TrimSpace(key))
	}
	return out, rows.Err()
}

// Apply drops the planned partitions. It goes on after a failure and returns all errors joined.
func (r Retention) Apply(ctx context.Context, conn driver.Conn, drops []PartitionDrop) error {
	if err := r.Validate(); err != nil {
		return err
	}
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	for _, d := range drops {
		if !tableIdent.MatchString(d.Table) || !yyyymm.MatchString(d.PartitionID) {
			errs = append(errs, fmt.Errorf("retention: refusing to drop partition %q of %q", d.PartitionID, d.Table))
			continue
		}
		q := fmt.Sprintf("ALTER TABLE `%s`.`%s` DROP PARTITION ID '%s'", r.database(), d.Table, d.PartitionID)
		if err := conn.Exec(ctx, q); err != nil {
			errs = append(errs, fmt.Errorf("retention: %s: %w", q, err))
			continue
		}
		log.Info("retention: dropped a month", "database", r.database(), "table", d.Table, "partition", d.PartitionID, "rows", d.Rows, "bytes", d.Bytes)
	}
	return errors.Join(errs...)
}

// Run plans and applies every interval (default 24h, first at once) until ctx ends; failures are logged
// and tried again at the next run.
func (r Retention) Run(ctx context.Context, conn driver.Conn, interval time.Duration) {
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		drops, err := r.Plan(rctx, conn, time.Now())
		if err == nil {
			err = r.Apply(rctx, conn, drops)
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			log.Error("retention run failed; trying again at the next run", "err", err, "next", interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r Retention) database() string {
	if r.Database == "" {
		return "zonewatch"
	}
	return r.Database
}

// Tables lists the tables with a retention, sorted (for logs and the report).
func (r Retention) Tables() []string {
	var out []string
	for t, m := range r.Months {
		if m > 0 {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}
