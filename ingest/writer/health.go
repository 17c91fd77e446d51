package writer

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// SourceHealth is what one log source (device × source type × listener) has sent, from the
// source_health_hourly rollup.
type SourceHealth struct {
	ObserverHost string
	SourceType   string
	Listener     string
	ObserverIP   netip.Addr // the latest address it sent from (unmapped IPv4), invalid when unknown
	// LastEvent is the newest event time the device reported (its own clock); LastIngested is when
	// zonewatch last received something from it (zonewatch's clock): silence is judged on this one.
	LastEvent, LastIngested time.Time
	// EventsLastHour and EventsLastDay count what arrived in the current and previous hour, and in the
	// last 24 whole hours plus the current one (by arrival, hourly buckets).
	EventsLastHour, EventsLastDay uint64
	// UnparsedLastDay counts the events of the last day whose body no parser understood.
	UnparsedLastDay uint64
	// Total counts every event still in the rollup (see retention).
	Total uint64
}

// SilentFor is how long nothing arrived from the source at now.
func (s SourceHealth) SilentFor(now time.Time) time.Duration { return now.Sub(s.LastIngested) }

// LastSeen returns every source in the source_health_hourly rollup of database db, the longest silent
// first, so that a device that stopped sending is at the top.
func LastSeen(ctx context.Context, conn driver.Conn, db string) ([]SourceHealth, error) {
	if !tableIdent.MatchString(db) {
		return nil, fmt.Errorf("last seen: database %q is not a plain identifier", db)
	}
	rows, err := conn.Query(ctx, `SELECT observer_host, source_type, listener, argMax(observer_ip, hour),
		max(last_timestamp), max(last_ingested),
		sumIf(events, hour >= toStartOfHour(now()) - INTERVAL 1 HOUR),
		sumIf(events, hour >= toStartOfHour(now()) - INTERVAL 24 HOUR),
		sumIf(unparsed, hour >= toStartOfHour(now()) - INTERVAL 24 HOUR),
		sum(events)
		FROM `+"`"+db+"`"+`.source_health_hourly
		GROUP BY observer_host, source_type, listener
		ORDER BY max(last_ingested), observer_host, source_type, listener`)
	if err != nil {
		return nil, fmt.Errorf("last seen: query %s.source_health_hourly: %w", db, err)
	}
	defer rows.Close()
	var out []SourceHealth
	for rows.Next() {
		var s SourceHealth
		var ip net.IP
		if err := rows.Scan(&s.ObserverHost, &s.SourceType, &s.Listener, &ip, &s.LastEvent, &s.LastIngested,
			&s.EventsLastHour, &s.EventsLastDay, &s.UnparsedLastDay, &s.Total); err != nil {
			return nil, fmt.Errorf("last seen: %w", err)
		}
		if a, ok := netip.AddrFromSlice(ip); ok && a != netip.IPv6Unspecified() {
			s.ObserverIP = a.Unmap()
		}
		s.LastEvent, s.LastIngested = s.LastEvent.UTC(), s.LastIngested.UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}
