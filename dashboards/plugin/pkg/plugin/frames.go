package plugin

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
	"github.com/zonewatch/zonewatch/query/filter"
)

// logFields are the event fields an events frame carries beside time, body and level.
var logFields = []struct {
	name string
	get  func(e *event.Event) string
}{
	{"id", func(e *event.Event) string { return e.ID }},
	{"source.zone", func(e *event.Event) string { return e.Source.Zone }},
	{"destination.zone", func(e *event.Event) string { return e.Destination.Zone }},
	{"source.ip", func(e *event.Event) string { return addr(e.Source.IP) }},
	{"destination.ip", func(e *event.Event) string { return addr(e.Destination.IP) }},
	{"destination.port", func(e *event.Event) string { return portString(e.Destination.Port) }},
	{"event.module", func(e *event.Event) string { return e.Meta.Module }},
	{"event.action", func(e *event.Event) string { return e.Meta.Action }},
	{"event.outcome", func(e *event.Event) string { return e.Meta.Outcome }},
	{"observer.hostname", func(e *event.Event) string { return e.Observer.Hostname }},
	{"user.name", func(e *event.Event) string { return e.User.Name }},
	{"url.domain", func(e *event.Event) string { return e.URL.Domain }},
}

// events is a logs frame of the matching events, newest first: time, body (the message, or the raw
// line when the parser gave none), level, and the fields of logFields.
func (d *Datasource) events(ctx context.Context, r *request) (data.Frames, error) {
	if err := needs(r, api.Analyst); err != nil {
		return nil, err
	}
	q, err := d.baseQuery(r)
	if err != nil {
		return nil, err
	}
	q.Limit = r.limit(100, 5000)
	res, err := d.engine.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	n := len(res.Events)
	times, bodies, levels := make([]time.Time, n), make([]string, n), make([]string, n)
	cols := make([][]string, len(logFields))
	for i := range cols {
		cols[i] = make([]string, n)
	}
	for i, e := range res.Events {
		times[i], bodies[i], levels[i] = e.Timestamp, body(e), level(e)
		for j, f := range logFields {
			cols[j][i] = f.get(e)
		}
	}
	frame := data.NewFrame("events",
		data.NewField("time", nil, times),
		data.NewField("body", nil, bodies),
		data.NewField("level", nil, levels),
	)
	for j, f := range logFields {
		frame.Fields = append(frame.Fields, data.NewField(f.name, nil, cols[j]))
	}
	frame.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeLogs}
	if res.Truncated {
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityInfo, Text: fmt.Sprintf("the newest %d events are shown: more match; narrow the time range or the filter, or raise the limit", n)})
	}
	return data.Frames{frame}, nil
}

func body(e *event.Event) string {
	if e.Message != "" {
		return e.Message
	}
	return e.Meta.Original
}

// level is the Logs panel's level: the syslog severity (0–2 critical, 3 error, 4 warning, 5–6
// info, 7 debug), raised to warning for a failure outcome (a deny or a failed login is what the
// SOC looks for, whatever the device's severity).
func level(e *event.Event) string {
	l := "info"
	switch s := e.Meta.Severity; {
	case s <= 2:
		l = "critical"
	case s == 3:
		l = "error"
	case s == 4:
		l = "warning"
	case s == 7:
		l = "debug"
	}
	if e.Meta.Outcome == event.OutcomeFailure && (l == "info" || l == "debug") {
		l = "warning"
	}
	return l
}

func addr(a netip.Addr) string {
	if !a.IsValid() || a.IsUnspecified() {
		return ""
	}
	return a.Unmap().String()
}

func portString(p uint16) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(int(p))
}

// aggs is the aggregation of the model, default a count.
func (m Model) aggs() ([]query.Agg, error) {
	switch m.Aggregation {
	case "", "count":
		return []query.Agg{{Op: query.Count, As: "count"}}, nil
	case "count_distinct", "sum":
		if m.Field == "" {
			return nil, &query.Error{Kind: query.ErrBadQuery, Msg: m.Aggregation + " needs a field (e.g. user.name, source.bytes)"}
		}
		return []query.Agg{{Op: query.AggOp(m.Aggregation), Field: m.Field, As: m.Aggregation}}, nil
	}
	return nil, &query.Error{Kind: query.ErrBadQuery, Msg: fmt.Sprintf("aggregation %q: use count, count_distinct or sum", m.Aggregation)}
}

// unit is the Grafana unit of an aggregation's values.
func (m Model) unit() string {
	if m.Aggregation == "sum" && (m.Field == "source.bytes" || m.Field == "destination.bytes") {
		return "decbytes"
	}
	return "short"
}

func (m Model) valueName() string {
	if m.Aggregation == "" || m.Aggregation == "count" {
		return "events"
	}
	return m.Aggregation + "(" + m.Field + ")"
}

// timeSeries is the events counted (or aggregated) per bucket of the query's interval: one wide
// frame with a value field per value of groupBy (labelled groupBy=value), every bucket of the
// range present (zero where nothing happened); format long gives the long frame instead. With
// groupBy, the limit (default 10, at most 100) keeps the most frequent values (restrictToTop).
func (d *Datasource) timeSeries(ctx context.Context, r *request) (data.Frames, error) {
	q, err := d.baseQuery(r)
	if err != nil {
		return nil, err
	}
	if q.Aggs, err = r.m.aggs(); err != nil {
		return nil, err
	}
	q.Bucket = d.bucket(r)
	more := 0
	if r.m.GroupBy != "" {
		if more, err = d.restrictToTop(ctx, r, &q); err != nil {
			return nil, err
		}
	}
	res, err := d.engine.TimeSeries(ctx, q)
	if err != nil {
		return nil, err
	}
	series := map[string][]int64{} // group → value per bucket
	totals := map[string]int64{}
	buckets := bucketTimes(r.from, r.to, q.Bucket)
	index := map[int64]int{}
	for i, t := range buckets {
		index[t.Unix()] = i
	}
	var long struct {
		t []time.Time
		g []string
		v []int64
	}
	for _, row := range res.Rows {
		t, _ := row[0].(time.Time)
		key, v := "", toInt64(row[len(row)-1])
		if r.m.GroupBy != "" {
			key = str(row[1])
		}
		long.t, long.g, long.v = append(long.t, t.UTC()), append(long.g, key), append(long.v, v)
		i, ok := index[t.Unix()]
		if !ok {
			continue
		}
		if series[key] == nil {
			series[key] = make([]int64, len(buckets))
		}
		series[key][i] += v
		totals[key] += v
	}
	cfg := &data.FieldConfig{Unit: r.m.unit()}
	if r.m.Format == "long" {
		fields := []*data.Field{data.NewField("time", nil, long.t)}
		if r.m.GroupBy != "" {
			fields = append(fields, data.NewField(r.m.GroupBy, nil, long.g))
		}
		fields = append(fields, data.NewField(r.m.valueName(), nil, long.v).SetConfig(cfg))
		frame := data.NewFrame(r.m.valueName(), fields...)
		frame.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesLong, TypeVersion: data.FrameTypeVersion{0, 1}}
		return data.Frames{frame}, nil
	}
	frame := data.NewFrame(r.m.valueName(), data.NewField("time", nil, buckets))
	frame.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesWide, TypeVersion: data.FrameTypeVersion{0, 1}}
	keys := topKeys(totals, r.limit(10, 100))
	if r.m.GroupBy == "" {
		keys = []string{""}
		if series[""] == nil {
			series[""] = make([]int64, len(buckets))
		}
	}
	for _, k := range keys {
		var labels data.Labels
		c := *cfg
		if r.m.GroupBy != "" {
			labels = data.Labels{r.m.GroupBy: k}
			c.DisplayNameFromDS = cmp.Or(k, "(none)")
		}
		frame.Fields = append(frame.Fields, data.NewField(r.m.valueName(), labels, series[k]).SetConfig(&c))
	}
	if more > 0 {
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityInfo, Text: fmt.Sprintf("only the %d most frequent values of %s are shown: raise the limit to see more", len(keys), r.m.GroupBy)})
	}
	if res.Truncated {
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: "the result reached the row limit: some buckets are missing; narrow the range or use a larger interval"})
	}
	return data.Frames{frame}, nil
}

// restrictToTop narrows a grouped time series to the limit's most frequent values of groupBy
// (a top-N first, then the series of those values only), so that the rows of every bucket of the
// range fit the engine's row limit whatever the number of values. more is 1 when there are more
// values than shown.
func (d *Datasource) restrictToTop(ctx context.Context, r *request, q *query.Query) (more int, err error) {
	n := r.limit(10, 100)
	tq := *q
	tq.Aggs = nil // TopN counts; the series' own aggregation comes after
	top, err := d.engine.TopN(ctx, tq, r.m.GroupBy, n+1)
	if err != nil {
		return 0, err
	}
	if len(top.Rows) > n {
		more, top.Rows = 1, top.Rows[:n]
	}
	if len(top.Rows) == 0 {
		return 0, nil
	}
	f, ok := filter.LookupField(r.m.GroupBy)
	if !ok || f.Kind == filter.KindMap {
		// labels.<name>: group values are text.
		f = filter.Field{Path: r.m.GroupBy, Kind: filter.KindString}
		if k, ok := strings.CutPrefix(r.m.GroupBy, "labels."); ok {
			f.Path = "labels[" + strconv.Quote(k) + "]"
		}
	}
	lits := make([]string, 0, len(top.Rows))
	for _, row := range top.Rows {
		l, err := literal(f, str(row[0]))
		if err != nil {
			return 0, &query.Error{Kind: query.ErrBadQuery, Msg: "group by " + r.m.GroupBy + ": " + err.Error()}
		}
		lits = append(lits, l)
	}
	in := f.Path + " in [" + strings.Join(lits, ", ") + "]"
	if q.Filter != "" {
		in = "(" + q.Filter + ") && " + in
	}
	q.Filter = in
	q.GroupBy = []string{r.m.GroupBy}
	buckets := int(r.to.Sub(r.from)/q.Bucket) + 2
	q.Limit = min(buckets*len(lits), d.engine.Limits().MaxRows)
	return more, nil
}

// bucketTimes are the starts of the buckets of [from, to), aligned as the query engine aligns them
// (query.BucketStart: days from midnight in Japan, shorter buckets from the Unix epoch).
func bucketTimes(from, to time.Time, b time.Duration) []time.Time {
	s := int64(b / time.Second)
	first := query.BucketStart(from, b).Unix()
	out := []time.Time{}
	for t := first; t < to.Unix() || (t == first && len(out) == 0); t += s {
		out = append(out, time.Unix(t, 0).UTC())
	}
	return out
}

// topKeys returns the n keys with the largest totals, largest first (ties by key).
func topKeys(totals map[string]int64, n int) []string {
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(totals[b], totals[a]), cmp.Compare(a, b))
	})
	return keys[:min(n, len(keys))]
}

// topN is a table of the most frequent values of groupBy: value, events, and the aggregation when
// one other than count is asked for.
func (d *Datasource) topN(ctx context.Context, r *request) (data.Frames, error) {
	if r.m.GroupBy == "" {
		return nil, &query.Error{Kind: query.ErrBadQuery, Msg: "top-n needs groupBy: the field whose most frequent values to list (e.g. url.domain, user.name)"}
	}
	q, err := d.baseQuery(r)
	if err != nil {
		return nil, err
	}
	if r.m.Aggregation != "" && r.m.Aggregation != "count" {
		if q.Aggs, err = r.m.aggs(); err != nil {
			return nil, err
		}
	}
	res, err := d.engine.TopN(ctx, q, r.m.GroupBy, r.limit(10, 1000))
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(res.Rows))
	counts := make([]int64, len(res.Rows))
	var extra []int64
	for i, row := range res.Rows {
		keys[i], counts[i] = str(row[0]), toInt64(row[1])
		if len(row) > 2 {
			extra = append(extra, toInt64(row[2]))
		}
	}
	frame := data.NewFrame("top "+r.m.GroupBy,
		data.NewField(r.m.GroupBy, nil, keys),
		data.NewField("events", nil, counts).SetConfig(&data.FieldConfig{Unit: "short"}),
	)
	if len(res.Columns) > 2 {
		if extra == nil {
			extra = []int64{}
		}
		frame.Fields = append(frame.Fields, data.NewField(r.m.valueName(), nil, extra).SetConfig(&data.FieldConfig{Unit: r.m.unit()}))
	}
	return data.Frames{frame}, nil
}

// Policies of a zone pair, the zonepairs frame's policy column.
const (
	PolicyIsolated   = "isolated"          // mynumber talks to no other zone: any such pair is an attempt
	PolicySanitised  = "sanitisation only" // lgwan ⇄ internet only through the sanitisation gateways
	PolicySplitPath  = "split path"        // lgwan ⇄ the public internet (external): never directly
	PolicyUnrestrict = ""
)

// pairPolicy says what the security policy says about traffic from src to dst, as the default
// pack's cross-zone rules read it. A pair with an unknown or empty zone gets no policy: those rules
// need both zones known (a dropped broadcast is no attempt to reach another zone).
func pairPolicy(src, dst string) string {
	known := func(z string) bool { return z != "" && z != "unknown" }
	switch {
	case src == dst || !known(src) || !known(dst):
		return PolicyUnrestrict
	case src == "mynumber" || dst == "mynumber":
		return PolicyIsolated
	case src == "lgwan" && dst == "internet", src == "internet" && dst == "lgwan":
		return PolicySanitised
	case src == "lgwan" && dst == "external", src == "external" && dst == "lgwan":
		return PolicySplitPath
	}
	return PolicyUnrestrict
}

// zonePairs is the zone matrix as a table: source zone, destination zone, events, denied, the
// policy for the pair and whether the policy forbids direct traffic (1) for highlighting.
func (d *Datasource) zonePairs(ctx context.Context, r *request) (data.Frames, error) {
	q, err := d.baseQuery(r)
	if err != nil {
		return nil, err
	}
	q.Limit = r.limit(1000, 10000)
	m, err := d.engine.ZonePairs(ctx, q)
	if err != nil {
		return nil, err
	}
	n := len(m.Pairs)
	src, dst, pol := make([]string, n), make([]string, n), make([]string, n)
	events, denied, forbidden := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, p := range m.Pairs {
		src[i], dst[i], events[i], denied[i] = p.Source, p.Destination, int64(p.Events), int64(p.Denied)
		pol[i] = pairPolicy(p.Source, p.Destination)
		if pol[i] != PolicyUnrestrict {
			forbidden[i] = 1
		}
	}
	frame := data.NewFrame("zone pairs",
		data.NewField("source.zone", nil, src),
		data.NewField("destination.zone", nil, dst),
		data.NewField("events", nil, events).SetConfig(&data.FieldConfig{Unit: "short"}),
		data.NewField("denied", nil, denied).SetConfig(&data.FieldConfig{Unit: "short"}),
		data.NewField("policy", nil, pol),
		data.NewField("forbidden", nil, forbidden),
	)
	if m.Truncated {
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: "more zone pairs than the limit: raise it"})
	}
	return data.Frames{frame}, nil
}

// offHours is a table per user (offHoursBy user, default) or observer host: events, events at
// off-hours by the key's duty calendar (Settings.CalendarOf, else DefaultCalendar), and the share.
func (d *Datasource) offHours(ctx context.Context, r *request) (data.Frames, error) {
	by := "user.name"
	switch r.m.OffHoursBy {
	case "", "user":
	case "host":
		by = "observer.hostname"
	default:
		return nil, &query.Error{Kind: query.ErrBadQuery, Msg: fmt.Sprintf("offHoursBy %q: use user or host", r.m.OffHoursBy)}
	}
	q, err := d.baseQuery(r)
	if err != nil {
		return nil, err
	}
	calOf := func(key string) string { return cmp.Or(d.settings.CalendarOf[key], d.settings.DefaultCalendar) }
	rows, err := d.engine.OffHours(ctx, q, by, query.CalendarOffHours(d.settings.cals, calOf))
	if err != nil {
		return nil, err
	}
	limit := r.limit(100, 10000)
	var keys, cals []string
	var events, off []int64
	var share []float64
	for _, row := range rows {
		if row.Key == "" || len(keys) == limit {
			continue
		}
		keys, cals = append(keys, row.Key), append(cals, calOf(row.Key))
		events, off = append(events, int64(row.Events)), append(off, int64(row.OffHours))
		share = append(share, float64(row.OffHours)/float64(max(row.Events, 1)))
	}
	frame := data.NewFrame("off-hours by "+by,
		data.NewField(by, nil, nonNil(keys)),
		data.NewField("calendar", nil, nonNil(cals)),
		data.NewField("events", nil, nonNil(events)).SetConfig(&data.FieldConfig{Unit: "short"}),
		data.NewField("off_hours", nil, nonNil(off)).SetConfig(&data.FieldConfig{Unit: "short", DisplayName: "off-hours events"}),
		data.NewField("off_hours_share", nil, nonNil(share)).SetConfig(&data.FieldConfig{Unit: "percentunit"}),
	)
	return data.Frames{frame}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case uint64:
		return int64(x)
	case int64:
		return x
	case uint32:
		return int64(x)
	case int32:
		return int64(x)
	case uint16:
		return int64(x)
	case uint8:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

// str renders a group value (string, number, address, bool) as text.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case net.IP:
		if a, ok := netip.AddrFromSlice(x); ok {
			return addr(a)
		}
		return x.String()
	case netip.Addr:
		return addr(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
