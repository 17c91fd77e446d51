package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Coverage comes from the source_health_hourly rollup (migration 0005): what each log source sent per
// hour of arrival. An hour without a row is an hour of silence.

const healthSQL = `SELECT observer_host, source_type, listener, hour, sum(events), sum(unparsed),
	max(last_timestamp), max(last_ingested)
	FROM %s WHERE hour >= toDateTime({from:DateTime64(3, 'UTC')}) AND hour < toDateTime({to:DateTime64(3, 'UTC')})
	GROUP BY observer_host, source_type, listener, hour`

type sourceKey struct{ host, typ, listener string }

type hourRow struct {
	hour             time.Time
	events, unparsed uint64
	lastTS, lastIn   time.Time
}

func (b *builder) health(ctx context.Context, p period) (map[sourceKey][]hourRow, error) {
	out := map[sourceKey][]hourRow{}
	err := b.query(ctx, p, fmt.Sprintf(healthSQL, b.table("source_health_hourly")), func(r driver.Rows) error {
		var k sourceKey
		var h hourRow
		if err := r.Scan(&k.host, &k.typ, &k.listener, &h.hour, &h.events, &h.unparsed, &h.lastTS, &h.lastIn); err != nil {
			return err
		}
		out[k] = append(out[k], h)
		return nil
	})
	return out, err
}

func (b *builder) coverage(ctx context.Context) error {
	cur, err := b.health(ctx, b.cur)
	if err != nil {
		return err
	}
	prev, err := b.health(ctx, b.prev)
	if err != nil {
		return err
	}
	keys := map[sourceKey]bool{}
	for k := range cur {
		keys[k] = true
	}
	for k := range prev {
		keys[k] = true
	}
	hosts := map[string]bool{}
	for k := range keys {
		hosts[k.host] = true
	}
	for _, h := range b.o.ExpectedSources {
		if !hosts[h] {
			keys[sourceKey{host: h}] = true
		}
	}
	hours := b.cur.hours()
	for k := range keys {
		c := SourceCoverage{Host: k.host, Type: k.typ, Listener: k.listener, Expected: slices.Contains(b.o.ExpectedSources, k.host)}
		for _, h := range prev[k] {
			c.PrevEvents += h.events
		}
		rows := cur[k]
		slices.SortFunc(rows, func(x, y hourRow) int { return x.hour.Compare(y.hour) })
		last := b.cur.from.Add(-time.Hour) // the hour before the first silent one
		for _, h := range rows {
			c.Events += h.events
			c.Unparsed += h.unparsed
			c.HoursReporting++
			c.LongestGap = max(c.LongestGap, int(h.hour.Sub(last)/time.Hour)-1)
			last = h.hour
			skew := int64(h.lastTS.Sub(h.lastIn) / time.Second)
			if abs(skew) > abs(c.MaxSkewSeconds) {
				c.MaxSkewSeconds = skew
			}
		}
		c.LongestGap = max(c.LongestGap, int(b.cur.to.Sub(last)/time.Hour)-1)
		c.SilentHours = hours - c.HoursReporting
		c.Reporting = c.Events > 0
		b.r.Coverage = append(b.r.Coverage, c)
	}
	slices.SortFunc(b.r.Coverage, func(x, y SourceCoverage) int {
		return strings.Compare(x.Host+"\x00"+x.Type+"\x00"+x.Listener, y.Host+"\x00"+y.Type+"\x00"+y.Listener)
	})
	s := &b.r.Summary
	s.HoursInMonth = hours
	s.SourcesExpected = len(b.r.Coverage)
	var reporting int
	for _, c := range b.r.Coverage {
		if c.Reporting {
			s.SourcesReporting++
		}
		s.SilentHours += uint64(c.SilentHours)
		reporting += c.HoursReporting
	}
	if s.SourcesExpected > 0 {
		s.CoveragePercent = round1(100 * float64(reporting) / float64(s.SourcesExpected*hours))
	}
	return nil
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
