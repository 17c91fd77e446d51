package plugin

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/zonewatch/zonewatch/query"
)

// health answers the pipeline-health views: sources (default), dead_letters, lag.
func (d *Datasource) health(ctx context.Context, r *request) (data.Frames, error) {
	switch r.m.HealthView {
	case "", "sources":
		return d.healthSources(ctx, r)
	case "dead_letters":
		return d.deadLetters(ctx, r)
	case "lag":
		return d.lag(ctx, r)
	}
	return nil, &query.Error{Kind: query.ErrBadQuery, Msg: fmt.Sprintf("healthView %q: use sources, dead_letters or lag", r.m.HealthView)}
}

// scopeHosts is the condition that hides the log sources of hidden zones: the rollup has no zone,
// so a host that reported events observed in a hidden zone during the range (and the week before
// it) is hidden.
func (d *Datasource) scopeHosts(r *request, args *[]any) string {
	if len(r.id.Hidden) == 0 {
		return "1"
	}
	*args = append(*args, ch.Named("hidden", r.id.Hidden), ch.Named("scopeFrom", r.from.Add(-7*24*time.Hour).UTC().Format(tsLayout)))
	return "observer_host NOT IN (SELECT DISTINCT observer_host FROM " + d.settings.Database +
		".events WHERE timestamp >= {scopeFrom:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')} AND has({hidden:Array(String)}, observer_zone))"
}

// healthSources is one row per log source (device × source type × listener) from the
// source_health_hourly rollup: events and unparsed events received in the range, the newest event
// time and arrival, how long the source has been silent at the range's end, and the device clock's
// offset (newest event time minus newest arrival; positive when the device runs ahead). The
// longest silent come first.
func (d *Datasource) healthSources(ctx context.Context, r *request) (data.Frames, error) {
	args := []any{ch.Named("from", r.from.UTC().Format(tsLayout)), ch.Named("to", r.to.UTC().Format(tsLayout))}
	sql := `SELECT observer_host, source_type, listener, max(last_timestamp) AS lt, max(last_ingested) AS li,
		sumIf(events, hour >= toStartOfHour({from:DateTime64(3, 'UTC')})), sumIf(unparsed, hour >= toStartOfHour({from:DateTime64(3, 'UTC')}))
		FROM ` + d.settings.Database + `.source_health_hourly
		WHERE hour < {to:DateTime64(3, 'UTC')} AND ` + d.scopeHosts(r, &args) + `
		GROUP BY observer_host, source_type, listener
		ORDER BY li, observer_host, source_type, listener LIMIT ` + fmt.Sprint(r.limit(1000, 10000))
	rows, err := d.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, &query.Error{Kind: query.ErrInternal, Msg: "health: read source_health_hourly", Err: err}
	}
	defer rows.Close()
	var hosts, types, listeners []string
	var lastEvent, lastArrival []time.Time
	var events, unparsed []int64
	var silent, offset []float64
	for rows.Next() {
		var h, t, l string
		var le, la time.Time
		var ev, up uint64
		if err := rows.Scan(&h, &t, &l, &le, &la, &ev, &up); err != nil {
			return nil, &query.Error{Kind: query.ErrInternal, Msg: "health: scan", Err: err}
		}
		hosts, types, listeners = append(hosts, h), append(types, t), append(listeners, l)
		lastEvent, lastArrival = append(lastEvent, le.UTC()), append(lastArrival, la.UTC())
		events, unparsed = append(events, int64(ev)), append(unparsed, int64(up))
		silent = append(silent, max(0, r.to.Sub(la).Seconds()))
		offset = append(offset, le.Sub(la).Seconds())
	}
	if err := rows.Err(); err != nil {
		return nil, &query.Error{Kind: query.ErrInternal, Msg: "health: read source_health_hourly", Err: err}
	}
	frame := data.NewFrame("log sources",
		data.NewField("observer.hostname", nil, nonNil(hosts)),
		data.NewField("event.module", nil, nonNil(types)),
		data.NewField("log.listener", nil, nonNil(listeners)),
		data.NewField("events", nil, nonNil(events)).SetConfig(&data.FieldConfig{Unit: "short"}),
		data.NewField("unparsed", nil, nonNil(unparsed)).SetConfig(&data.FieldConfig{Unit: "short"}),
		data.NewField("last_event", nil, nonNil(lastEvent)),
		data.NewField("last_arrival", nil, nonNil(lastArrival)),
		data.NewField("silent_for", nil, nonNil(silent)).SetConfig(&data.FieldConfig{Unit: "s", DisplayName: "silent for"}),
		data.NewField("clock_offset", nil, nonNil(offset)).SetConfig(&data.FieldConfig{Unit: "s", DisplayName: "clock offset"}),
	)
	return data.Frames{frame}, nil
}

// deadLetters is a time series of the messages kept as dead letters, per listener, in buckets of
// the query's interval. Dead letters carry no zone (they could not be read), so only counts leave.
func (d *Datasource) deadLetters(ctx context.Context, r *request) (data.Frames, error) {
	b := d.bucket(r)
	sql := fmt.Sprintf(`SELECT %s AS t, listener, toFloat64(count())
		FROM %s.dead_letters FINAL WHERE received >= {from:DateTime64(3, 'UTC')} AND received < {to:DateTime64(3, 'UTC')}
		GROUP BY t, listener ORDER BY t, listener LIMIT 100000`, query.BucketSQL("received", b), d.settings.Database)
	return d.seriesSQL(ctx, r, b, "dead letters", "log.listener", "short", sql)
}

// lag is the largest difference per hour and source type between the newest event time a device
// reported and its arrival, from the source_health_hourly rollup: transport delay plus clock
// drift (negative when a device's clock runs ahead).
func (d *Datasource) lag(ctx context.Context, r *request) (data.Frames, error) {
	sql := `SELECT hour, source_type, toFloat64(max(dateDiff('millisecond', last_timestamp, last_ingested)) / 1000)
		FROM (SELECT hour, observer_host, source_type, listener, max(last_timestamp) AS last_timestamp, max(last_ingested) AS last_ingested
			FROM ` + d.settings.Database + `.source_health_hourly
			WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')} AND ` + "%s" + `
			GROUP BY hour, observer_host, source_type, listener)
		GROUP BY hour, source_type ORDER BY hour, source_type LIMIT 100000`
	args := []any{}
	sql = fmt.Sprintf(sql, d.scopeHosts(r, &args))
	return d.seriesSQL(ctx, r, time.Hour, "arrival delay", "event.module", "s", sql, args...)
}

// seriesSQL runs sql (rows of bucket time, group, value over [from, to)) into a wide frame with a
// field per group and every bucket present.
func (d *Datasource) seriesSQL(ctx context.Context, r *request, b time.Duration, name, groupBy, unit, sql string, extra ...any) (data.Frames, error) {
	args := append([]any{ch.Named("from", r.from.UTC().Format(tsLayout)), ch.Named("to", r.to.UTC().Format(tsLayout))}, extra...)
	rows, err := d.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, &query.Error{Kind: query.ErrInternal, Msg: "health: " + name, Err: err}
	}
	defer rows.Close()
	buckets := bucketTimes(r.from, r.to, b)
	index := map[int64]int{}
	for i, t := range buckets {
		index[t.Unix()] = i
	}
	series := map[string][]float64{}
	var keys []string
	for rows.Next() {
		var t time.Time
		var k string
		var v float64
		if err := rows.Scan(&t, &k, &v); err != nil {
			return nil, &query.Error{Kind: query.ErrInternal, Msg: "health: " + name, Err: err}
		}
		if series[k] == nil {
			series[k] = make([]float64, len(buckets))
			keys = append(keys, k)
		}
		if i, ok := index[t.Unix()]; ok {
			series[k][i] = v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, &query.Error{Kind: query.ErrInternal, Msg: "health: " + name, Err: err}
	}
	frame := data.NewFrame(name, data.NewField("time", nil, buckets))
	frame.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesWide, TypeVersion: data.FrameTypeVersion{0, 1}}
	for _, k := range keys {
		frame.Fields = append(frame.Fields, data.NewField(name, data.Labels{groupBy: k}, series[k]).
			SetConfig(&data.FieldConfig{Unit: unit, DisplayNameFromDS: k}))
	}
	return data.Frames{frame}, nil
}
