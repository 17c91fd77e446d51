package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/zonewatch/zonewatch/dashboards/plugin/pkg/plugin"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// Grafana users of the tests.
var (
	admin   = &backend.User{Login: "soc-admin", Role: "Admin"}
	analyst = &backend.User{Login: "analyst1", Role: "Editor"}
	viewer  = &backend.User{Login: "viewer1", Role: "Viewer"}
	scoped  = &backend.User{Login: "mn-officer", Role: "Viewer"} // zoneScopes grants mynumber
)

// The whole backend against one loaded database: loading the simulated period is the expensive
// part, so the tests share it as subtests.
func TestBackend(t *testing.T) {
	f := newFixture(t)
	inst, err := plugin.NewDatasource(t.Context(), f.settings(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	ds := inst.(*plugin.Datasource)
	t.Cleanup(ds.Dispose)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *fixture, *plugin.Datasource)
	}{
		{"CheckHealth", testCheckHealth},
		{"FrameSchemas", testFrameSchemas}, // before Health adds dead letters
		{"TimeSeries", testTimeSeries},
		{"TopN", testTopN},
		{"ZonePairs", testZonePairs},
		{"Events", testEvents},
		{"OffHours", testOffHours},
		{"Alerts", testAlerts},
		{"Health", testHealth},
		{"Variables", testVariables},
		{"Scope", testScope},
		{"AdhocFilters", testAdhoc},
		{"Errors", testErrors},
		{"CallResource", testCallResource},
		{"RunStream", testRunStream},
		{"Dashboards", testDashboards},
		{"Executable", testExecutable},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, f, ds) })
	}
}

// run sends one query through QueryData as Grafana would and returns its response.
func run(t *testing.T, ds *plugin.Datasource, u *backend.User, model map[string]any, interval time.Duration) backend.DataResponse {
	t.Helper()
	b, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	qt, _ := model["queryType"].(string)
	resp, err := ds.QueryData(t.Context(), &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{User: u},
		Queries: []backend.DataQuery{{RefID: "A", QueryType: qt, JSON: b, Interval: interval,
			TimeRange: backend.TimeRange{From: simFrom, To: simTo}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Responses["A"]
}

// frame runs a query that must succeed with one frame.
func frame(t *testing.T, ds *plugin.Datasource, u *backend.User, model map[string]any, interval time.Duration) *data.Frame {
	t.Helper()
	r := run(t, ds, u, model, interval)
	if r.Error != nil {
		t.Fatalf("query %v: %v", model, r.Error)
	}
	if len(r.Frames) != 1 {
		t.Fatalf("query %v: %d frames, want 1", model, len(r.Frames))
	}
	return r.Frames[0]
}

// field returns the named field, failing when it is missing or of another type.
func field(t *testing.T, fr *data.Frame, name string, typ data.FieldType) *data.Field {
	t.Helper()
	for _, f := range fr.Fields {
		if f.Name == name {
			if f.Type() != typ {
				t.Fatalf("frame %q field %q is %s, want %s", fr.Name, name, f.Type(), typ)
			}
			return f
		}
	}
	t.Fatalf("frame %q has no field %q (fields: %v)", fr.Name, name, fieldNames(fr))
	return nil
}

func fieldNames(fr *data.Frame) []string {
	var out []string
	for _, f := range fr.Fields {
		out = append(out, f.Name)
	}
	return out
}

func strs(f *data.Field) []string {
	out := make([]string, f.Len())
	for i := range out {
		out[i] = f.At(i).(string)
	}
	return out
}

func ints(f *data.Field) []int64 {
	out := make([]int64, f.Len())
	for i := range out {
		out[i] = f.At(i).(int64)
	}
	return out
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

// inRange is the SQL condition of the simulated period.
func inRange() string {
	return fmt.Sprintf("timestamp >= toDateTime64('%s', 3, 'UTC') AND timestamp < toDateTime64('%s', 3, 'UTC')",
		simFrom.Format("2006-01-02 15:04:05"), simTo.Format("2006-01-02 15:04:05"))
}

// noMynumber is the viewer scope's condition, written independently of query's.
const noMynumber = "source_zone != 'mynumber' AND destination_zone != 'mynumber' AND observer_zone != 'mynumber'"

func testCheckHealth(t *testing.T, f *fixture, ds *plugin.Datasource) {
	res, err := ds.CheckHealth(t.Context(), &backend.CheckHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("at %s, database %s: %d events", f.addr, f.db, f.count(t, "SELECT count() FROM events"))
	if res.Status != backend.HealthStatusOk || !strings.HasPrefix(res.Message, "ClickHouse 26.") || !strings.HasSuffix(res.Message, want) {
		t.Errorf("CheckHealth = %v %q, want ok and \"ClickHouse 26.… %s\"", res.Status, res.Message, want)
	}
	// A database without the schema, and one that does not exist: the message says what to do (and
	// the server survives: a handshake naming an unknown database would abort the embedded one).
	empty := f.db + "_empty"
	if err := f.conn.Exec(t.Context(), "CREATE DATABASE "+empty); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.conn.Exec(context.Background(), "DROP DATABASE "+empty) }()
	for _, db := range []string{empty, "no_such_db"} {
		inst, err := plugin.NewDatasource(t.Context(), f.settings(t, map[string]any{"database": db}))
		if err != nil {
			t.Fatal(err)
		}
		res, err := inst.(*plugin.Datasource).CheckHealth(t.Context(), &backend.CheckHealthRequest{})
		inst.(*plugin.Datasource).Dispose()
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "zonewatch migrate") || !strings.Contains(res.Message, db) {
			t.Errorf("CheckHealth on database %s = %v %q, want an error naming it and zonewatch migrate", db, res.Status, res.Message)
		}
	}
	if n := f.count(t, "SELECT count() FROM system.one"); n != 1 {
		t.Fatalf("the server did not survive: %d", n)
	}
	// A server that is not there.
	inst, err := plugin.NewDatasource(t.Context(), f.settings(t, map[string]any{"address": "127.0.0.1:1"}))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.(*plugin.Datasource).Dispose()
	res, _ = inst.(*plugin.Datasource).CheckHealth(t.Context(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "127.0.0.1:1 does not answer") {
		t.Errorf("CheckHealth on a closed port = %v %q, want an error naming the address", res.Status, res.Message)
	}
}

func testTimeSeries(t *testing.T, f *fixture, ds *plugin.Datasource) {
	// One series: every 15-minute bucket of the range, summing to the events of the range.
	fr := frame(t, ds, admin, map[string]any{"queryType": "timeseries"}, 15*time.Minute)
	times := field(t, fr, "time", data.FieldTypeTime)
	vals := field(t, fr, "events", data.FieldTypeInt64)
	if want := int(simTo.Sub(simFrom) / (15 * time.Minute)); times.Len() != want {
		t.Errorf("%d buckets, want %d", times.Len(), want)
	}
	if got, want := sum(ints(vals)), int64(f.count(t, "SELECT count() FROM events WHERE "+inRange())); got != want || want == 0 {
		t.Errorf("events over the range = %d, SQL says %d", got, want)
	}
	if fr.Meta == nil || fr.Meta.Type != data.FrameTypeTimeSeriesWide {
		t.Errorf("frame meta %+v, want a wide time series", fr.Meta)
	}
	// Grouped by zone: one labelled field per zone, each matching SQL.
	fr = frame(t, ds, admin, map[string]any{"queryType": "timeseries", "groupBy": "source.zone", "limit": 50}, time.Hour)
	if len(fr.Fields) < 4 {
		t.Fatalf("grouped series: fields %v, want time and one per zone", fieldNames(fr))
	}
	for _, fl := range fr.Fields[1:] {
		z := fl.Labels["source.zone"]
		want := int64(f.count(t, "SELECT count() FROM events WHERE source_zone = ? AND "+inRange(), z))
		if got := sum(ints(fl)); got != want {
			t.Errorf("zone %q: %d events, SQL says %d", z, got, want)
		}
	}
	// Many values, few series: the three most frequent users, every bucket complete.
	fr = frame(t, ds, admin, map[string]any{"queryType": "timeseries", "groupBy": "user.name", "filter": `user.name != ""`, "limit": 3}, 5*time.Minute)
	rows, err := f.conn.Query(t.Context(), "SELECT user_name, count() AS c FROM events WHERE user_name != '' AND "+inRange()+" GROUP BY user_name ORDER BY c DESC, user_name LIMIT 3")
	if err != nil {
		t.Fatal(err)
	}
	var top []string
	for rows.Next() {
		var u string
		var c uint64
		if err := rows.Scan(&u, &c); err != nil {
			t.Fatal(err)
		}
		top = append(top, u)
		i := slices.IndexFunc(fr.Fields, func(fl *data.Field) bool { return fl.Labels["user.name"] == u })
		if i < 0 {
			t.Errorf("user %q (%d events) has no series: %v", u, c, fieldNames(fr))
			continue
		}
		if got := sum(ints(fr.Fields[i])); got != int64(c) {
			t.Errorf("user %q: %d events, SQL says %d", u, got, c)
		}
	}
	rows.Close()
	if len(fr.Fields) != 4 || fr.Fields[0].Len() != int(simTo.Sub(simFrom)/(5*time.Minute)) || len(fr.Meta.Notices) == 0 {
		t.Errorf("top-3 users: %d fields (want 4), %d buckets, notices %v", len(fr.Fields), fr.Fields[0].Len(), fr.Meta.Notices)
	}
	// Sum of bytes, in bytes.
	fr = frame(t, ds, admin, map[string]any{"queryType": "timeseries", "aggregation": "sum", "field": "source.bytes"}, time.Hour)
	vals = field(t, fr, "sum(source.bytes)", data.FieldTypeInt64)
	if got, want := sum(ints(vals)), int64(f.count(t, "SELECT sum(bytes_out) FROM events WHERE "+inRange())); got != want {
		t.Errorf("bytes out = %d, SQL says %d", got, want)
	}
	if vals.Config == nil || vals.Config.Unit != "decbytes" {
		t.Errorf("bytes field config %+v, want unit decbytes", vals.Config)
	}
	// Long format: time, group, value.
	fr = frame(t, ds, admin, map[string]any{"queryType": "timeseries", "groupBy": "event.module", "format": "long"}, time.Hour)
	field(t, fr, "event.module", data.FieldTypeString)
	if got, want := sum(ints(field(t, fr, "events", data.FieldTypeInt64))), int64(f.count(t, "SELECT count() FROM events WHERE "+inRange())); got != want {
		t.Errorf("long frame sums to %d, SQL says %d", got, want)
	}
}

func testTopN(t *testing.T, f *fixture, ds *plugin.Datasource) {
	fr := frame(t, ds, admin, map[string]any{"queryType": "topn", "groupBy": "url.domain", "filter": `url.domain != ""`, "limit": 5}, 0)
	keys, counts := strs(field(t, fr, "url.domain", data.FieldTypeString)), ints(field(t, fr, "events", data.FieldTypeInt64))
	rows, err := f.conn.Query(t.Context(), "SELECT url_domain, count() AS c FROM events WHERE url_domain != '' AND "+inRange()+" GROUP BY url_domain ORDER BY c DESC, url_domain LIMIT 5")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var i int
	for ; rows.Next(); i++ {
		var d string
		var c uint64
		if err := rows.Scan(&d, &c); err != nil {
			t.Fatal(err)
		}
		if i >= len(keys) || keys[i] != d || counts[i] != int64(c) {
			t.Errorf("top %d: plugin %v %v, SQL %s %d", i+1, keys, counts, d, c)
		}
	}
	if i != len(keys) || i == 0 {
		t.Errorf("plugin gave %d domains, SQL %d", len(keys), i)
	}
	// count_distinct per value.
	fr = frame(t, ds, admin, map[string]any{"queryType": "topn", "groupBy": "source.zone", "aggregation": "count_distinct", "field": "user.name"}, 0)
	zones, users := strs(field(t, fr, "source.zone", data.FieldTypeString)), ints(field(t, fr, "count_distinct(user.name)", data.FieldTypeInt64))
	for i, z := range zones {
		if want := int64(f.count(t, "SELECT uniqExact(user_name) FROM events WHERE source_zone = ? AND "+inRange(), z)); users[i] != want {
			t.Errorf("zone %q: %d distinct users, SQL says %d", z, users[i], want)
		}
	}
}

func testZonePairs(t *testing.T, f *fixture, ds *plugin.Datasource) {
	fr := frame(t, ds, admin, map[string]any{"queryType": "zonepairs"}, 0)
	src, dst := strs(field(t, fr, "source.zone", data.FieldTypeString)), strs(field(t, fr, "destination.zone", data.FieldTypeString))
	events, denied := ints(field(t, fr, "events", data.FieldTypeInt64)), ints(field(t, fr, "denied", data.FieldTypeInt64))
	policy, forbidden := strs(field(t, fr, "policy", data.FieldTypeString)), ints(field(t, fr, "forbidden", data.FieldTypeInt64))
	var sawIsolated bool
	for i := range src {
		we := int64(f.count(t, "SELECT count() FROM events WHERE source_zone = ? AND destination_zone = ? AND "+inRange(), src[i], dst[i]))
		wd := int64(f.count(t, "SELECT countIf(outcome = 'failure') FROM events WHERE source_zone = ? AND destination_zone = ? AND "+inRange(), src[i], dst[i]))
		if events[i] != we || denied[i] != wd {
			t.Errorf("%s → %s: %d events %d denied, SQL says %d %d", src[i], dst[i], events[i], denied[i], we, wd)
		}
		known := !slices.Contains([]string{"", "unknown"}, src[i]) && !slices.Contains([]string{"", "unknown"}, dst[i])
		isolated := known && src[i] != dst[i] && (src[i] == "mynumber" || dst[i] == "mynumber")
		wantPolicy := map[bool]string{true: plugin.PolicyIsolated}[isolated]
		switch p := src[i] + ">" + dst[i]; p {
		case "lgwan>internet", "internet>lgwan":
			wantPolicy = plugin.PolicySanitised
		case "lgwan>external", "external>lgwan":
			wantPolicy = plugin.PolicySplitPath
		}
		if policy[i] != wantPolicy || forbidden[i] != map[bool]int64{true: 1}[wantPolicy != ""] {
			t.Errorf("%s → %s: policy %q forbidden %d, want %q", src[i], dst[i], policy[i], forbidden[i], wantPolicy)
		}
		sawIsolated = sawIsolated || isolated
	}
	if !sawIsolated {
		t.Error("no pair out of mynumber: the simulated mynumber_cross_zone incident should give one")
	}
	if int64(len(src)) != int64(f.count(t, "SELECT count() FROM (SELECT DISTINCT source_zone, destination_zone FROM events WHERE "+inRange()+")")) {
		t.Errorf("%d pairs, SQL says otherwise", len(src))
	}
}

func testEvents(t *testing.T, f *fixture, ds *plugin.Datasource) {
	const flt = `event.outcome == "failure" && destination.port == 22`
	want := f.count(t, "SELECT count() FROM events WHERE outcome = 'failure' AND destination_port = 22 AND "+inRange())
	if want == 0 {
		t.Fatal("no failed ssh events in the fixture: the simulated brute force should give some")
	}
	fr := frame(t, ds, analyst, map[string]any{"queryType": "events", "filter": flt, "limit": 20}, 0)
	if fr.Meta == nil || fr.Meta.PreferredVisualization != data.VisTypeLogs {
		t.Errorf("meta %+v, want preferred visualisation logs", fr.Meta)
	}
	times := field(t, fr, "time", data.FieldTypeTime)
	body, lvl := strs(field(t, fr, "body", data.FieldTypeString)), strs(field(t, fr, "level", data.FieldTypeString))
	ports := strs(field(t, fr, "destination.port", data.FieldTypeString))
	if got := uint64(times.Len()); got != min(want, 20) {
		t.Errorf("%d events, want min(20, %d)", got, want)
	}
	for i := range body {
		if body[i] == "" || ports[i] != "22" || !slices.Contains([]string{"warning", "error", "critical"}, lvl[i]) {
			t.Errorf("event %d: body %q port %q level %q", i, body[i], ports[i], lvl[i])
		}
		if i > 0 && times.At(i).(time.Time).After(times.At(i-1).(time.Time)) {
			t.Errorf("events not newest first at %d", i)
		}
	}
	if want > 20 && len(fr.Meta.Notices) == 0 {
		t.Error("a truncated result carries no notice")
	}
	// A viewer may not read events, as in the query API.
	if r := run(t, ds, viewer, map[string]any{"queryType": "events"}, 0); r.Error == nil || r.Status != backend.StatusForbidden {
		t.Errorf("viewer events: status %v error %v, want 403", r.Status, r.Error)
	}
}

func testOffHours(t *testing.T, f *fixture, ds *plugin.Datasource) {
	fr := frame(t, ds, admin, map[string]any{"queryType": "offhours", "limit": 1000}, 0)
	users := strs(field(t, fr, "user.name", data.FieldTypeString))
	events, off := ints(field(t, fr, "events", data.FieldTypeInt64)), ints(field(t, fr, "off_hours", data.FieldTypeInt64))
	field(t, fr, "off_hours_share", data.FieldTypeFloat64)
	if len(users) == 0 {
		t.Fatal("no users")
	}
	if want := f.count(t, "SELECT uniqExact(user_name) FROM events WHERE user_name != '' AND "+inRange()); uint64(len(users)) != want {
		t.Errorf("%d users, SQL says %d", len(users), want)
	}
	var anyOff bool
	for i, u := range users {
		if want := int64(f.count(t, "SELECT count() FROM events WHERE user_name = ? AND "+inRange(), u)); events[i] != want || off[i] > events[i] {
			t.Errorf("user %q: %d events (%d off-hours), SQL says %d events", u, events[i], off[i], want)
		}
		// Independent check with the office calendar 08:30–17:15 JST on a Monday: events before
		// 08:30 or from 17:15 are off-hours (the period is 2026-11-02 00:00–18:00 JST, no holiday).
		wantOff := int64(f.count(t, `SELECT countIf(toHour(timestamp, 'Asia/Tokyo') * 60 + toMinute(timestamp, 'Asia/Tokyo') < 510
			OR toHour(timestamp, 'Asia/Tokyo') * 60 + toMinute(timestamp, 'Asia/Tokyo') >= 1035) FROM events WHERE user_name = ? AND `+inRange(), u))
		if off[i] != wantOff {
			t.Errorf("user %q: %d off-hours events, SQL with the office hours says %d", u, off[i], wantOff)
		}
		anyOff = anyOff || off[i] > 0
	}
	if !anyOff {
		t.Error("nobody off-hours, though the period starts at midnight")
	}
	if i := slices.IndexFunc(off[1:], func(v int64) bool { return v > off[0] }); i >= 0 {
		t.Errorf("not sorted by off-hours events: %v", off)
	}
}

func testAlerts(t *testing.T, f *fixture, ds *plugin.Datasource) {
	if len(f.alerts) == 0 {
		t.Fatal("the default pack raised no alert over the simulated period")
	}
	fr := frame(t, ds, admin, map[string]any{"queryType": "alerts", "alertStatus": "all", "limit": 10000}, 0)
	ids := strs(field(t, fr, "id", data.FieldTypeString))
	field(t, fr, "time", data.FieldTypeTime)
	field(t, fr, "timeEnd", data.FieldTypeTime)
	titles := strs(field(t, fr, "title", data.FieldTypeString))
	groups := strs(field(t, fr, "group", data.FieldTypeString))
	want := f.count(t, fmt.Sprintf("SELECT count() FROM alerts FINAL WHERE last_seen >= toDateTime64('%s', 3, 'UTC') AND first_seen < toDateTime64('%s', 3, 'UTC')",
		simFrom.Format("2006-01-02 15:04:05"), simTo.Format("2006-01-02 15:04:05")))
	if uint64(len(ids)) != want {
		t.Errorf("%d alerts, SQL says %d", len(ids), want)
	}
	if len(titles) > 0 && titles[0] == "" {
		t.Error("alert without its Japanese title")
	}
	if !slices.ContainsFunc(groups, func(g string) bool { return g != "" }) {
		t.Error("an admin sees no alert group")
	}
	// Severity filter and the workflow status from alert_actions.
	fr = frame(t, ds, admin, map[string]any{"queryType": "alerts", "severity": "critical"}, 0)
	sev := strs(field(t, fr, "severity", data.FieldTypeString))
	if want := f.count(t, "SELECT count() FROM alerts FINAL WHERE severity = 'critical'"); uint64(len(sev)) != want {
		t.Errorf("%d critical alerts, SQL says %d", len(sev), want)
	}
	first := f.alerts[0]
	if err := f.conn.Exec(t.Context(), "INSERT INTO alert_actions (alert_id, action, who, comment, at) VALUES (?, 'acknowledge', 'analyst1', 'looking', now64(3))", first.ID); err != nil {
		t.Fatal(err)
	}
	fr = frame(t, ds, admin, map[string]any{"queryType": "alerts", "alertStatus": "acknowledged"}, 0)
	if got := strs(field(t, fr, "id", data.FieldTypeString)); !slices.Equal(got, []string{first.ID}) {
		t.Errorf("acknowledged alerts %v, want [%s]", got, first.ID)
	}
	fr = frame(t, ds, admin, map[string]any{"queryType": "alerts", "alertStatus": "open", "limit": 10000}, 0)
	if got := strs(field(t, fr, "id", data.FieldTypeString)); slices.Contains(got, first.ID) || uint64(len(got)) != want-1 {
		t.Errorf("open alerts: %d (with the acknowledged one: %v), want %d", len(got), slices.Contains(got, first.ID), want-1)
	}
	// A viewer sees no group.
	fr = frame(t, ds, viewer, map[string]any{"queryType": "alerts", "alertStatus": "all"}, 0)
	if g := strs(field(t, fr, "group", data.FieldTypeString)); slices.ContainsFunc(g, func(s string) bool { return s != "" }) {
		t.Error("a viewer sees alert groups")
	}
}

func testHealth(t *testing.T, f *fixture, ds *plugin.Datasource) {
	fr := frame(t, ds, admin, map[string]any{"queryType": "health"}, 0)
	hosts := strs(field(t, fr, "observer.hostname", data.FieldTypeString))
	events := ints(field(t, fr, "events", data.FieldTypeInt64))
	silent := field(t, fr, "silent_for", data.FieldTypeFloat64)
	field(t, fr, "last_arrival", data.FieldTypeTime)
	if want := f.count(t, "SELECT count() FROM (SELECT DISTINCT observer_host, source_type, listener FROM events)"); uint64(len(hosts)) != want {
		t.Errorf("%d sources, SQL says %d", len(hosts), want)
	}
	if got, want := sum(events), int64(f.count(t, fmt.Sprintf("SELECT count() FROM events WHERE ingested >= toStartOfHour(toDateTime64('%s', 3, 'UTC'))", simFrom.Format("2006-01-02 15:04:05")))); got != want {
		t.Errorf("events of all sources = %d, SQL says %d", got, want)
	}
	// The longest silent first: the simulated source_silent incident (lg-file01 silent an hour) is
	// not required at the top, but the order is.
	for i := 1; i < silent.Len(); i++ {
		if silent.At(i).(float64) > silent.At(i-1).(float64) {
			t.Fatalf("sources not sorted by silence at %d", i)
		}
	}
	// Dead letters per listener.
	for i := range 3 {
		if err := f.conn.Exec(t.Context(), "INSERT INTO dead_letters (id, received, listener, peer, reason, raw) VALUES (?, ?, 'udp514', '10.0.0.1', 'not syslog', 'x')",
			fmt.Sprint("dl", i), simFrom.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	fr = frame(t, ds, admin, map[string]any{"queryType": "health", "healthView": "dead_letters"}, time.Hour)
	if len(fr.Fields) != 2 || fr.Fields[1].Labels["log.listener"] != "udp514" {
		t.Fatalf("dead letters frame fields %v", fieldNames(fr))
	}
	var n float64
	for i := range fr.Fields[1].Len() {
		n += fr.Fields[1].At(i).(float64)
	}
	if n != 3 {
		t.Errorf("%v dead letters, want 3", n)
	}
	fr = frame(t, ds, admin, map[string]any{"queryType": "health", "healthView": "lag"}, time.Hour)
	if len(fr.Fields) < 2 {
		t.Errorf("lag frame fields %v", fieldNames(fr))
	}
}

func testVariables(t *testing.T, f *fixture, ds *plugin.Datasource) {
	values := func(u *backend.User, name string) []string {
		return strs(field(t, frame(t, ds, u, map[string]any{"queryType": "variable", "variable": name}, 0), "value", data.FieldTypeString))
	}
	if z := values(admin, "zones"); !slices.Equal(z[:3], []string{"mynumber", "lgwan", "internet"}) {
		t.Errorf("admin zones %v", z)
	}
	if z := values(viewer, "zones"); slices.Contains(z, "mynumber") || !slices.Contains(z, "lgwan") {
		t.Errorf("viewer zones %v", z)
	}
	if h := values(admin, "hosts"); uint64(len(h)) != f.count(t, "SELECT uniqExact(observer_host) FROM events WHERE observer_host != '' AND "+inRange()) {
		t.Errorf("%d hosts", len(h))
	}
	if s := values(viewer, "severities"); !slices.Equal(s, []string{"critical", "high", "medium", "low", "info"}) {
		t.Errorf("severities %v", s)
	}
	if r := values(admin, "rules"); uint64(len(r)) != f.count(t, "SELECT uniqExact(rule_id) FROM alerts") {
		t.Errorf("rules %v", r)
	}
	if u := values(analyst, "users"); len(u) == 0 || slices.Contains(u, "") {
		t.Errorf("users %v", u)
	}
}

func testScope(t *testing.T, f *fixture, ds *plugin.Datasource) {
	// A viewer asking for mynumber by name is refused with the reason.
	r := run(t, ds, viewer, map[string]any{"queryType": "timeseries", "filter": `source.zone == "mynumber"`}, time.Hour)
	if r.Error == nil || r.Status != backend.StatusForbidden || !strings.Contains(r.Error.Error(), "mynumber") {
		t.Errorf("viewer filter on mynumber: status %v error %v, want 403 naming the zone", r.Status, r.Error)
	}
	// Asked sideways, nothing of mynumber comes back.
	fr := frame(t, ds, viewer, map[string]any{"queryType": "zonepairs", "filter": `source.zone startsWith "myn"`}, 0)
	if n := field(t, fr, "events", data.FieldTypeInt64).Len(); n != 0 {
		t.Errorf("viewer sees %d pairs starting with myn", n)
	}
	fr = frame(t, ds, viewer, map[string]any{"queryType": "zonepairs"}, 0)
	for _, col := range []string{"source.zone", "destination.zone"} {
		if slices.Contains(strs(field(t, fr, col, data.FieldTypeString)), "mynumber") {
			t.Errorf("viewer zone pairs hold mynumber in %s", col)
		}
	}
	fr = frame(t, ds, viewer, map[string]any{"queryType": "timeseries"}, time.Hour)
	if got, want := sum(ints(field(t, fr, "events", data.FieldTypeInt64))), int64(f.count(t, "SELECT count() FROM events WHERE "+noMynumber+" AND "+inRange())); got != want {
		t.Errorf("viewer sees %d events, SQL without mynumber says %d", got, want)
	}
	fr = frame(t, ds, viewer, map[string]any{"queryType": "alerts", "alertStatus": "all", "limit": 10000}, 0)
	for _, z := range strs(field(t, fr, "zones", data.FieldTypeString)) {
		if strings.Contains(z, "mynumber") {
			t.Errorf("viewer sees an alert in %q", z)
		}
	}
	fr = frame(t, ds, viewer, map[string]any{"queryType": "health"}, 0)
	mnHosts := f.count(t, "SELECT uniqExact(observer_host) FROM events WHERE observer_zone = 'mynumber'")
	for _, h := range strs(field(t, fr, "observer.hostname", data.FieldTypeString)) {
		if f.count(t, "SELECT count() FROM events WHERE observer_zone = 'mynumber' AND observer_host = ?", h) > 0 {
			t.Errorf("viewer sees mynumber log source %s", h)
		}
	}
	if mnHosts == 0 {
		t.Error("the fixture has no mynumber log source: the scope check above proved nothing")
	}
	// A login with a zone scope reads mynumber as a viewer; an analyst without one does not.
	fr = frame(t, ds, scoped, map[string]any{"queryType": "timeseries", "filter": `source.zone == "mynumber"`}, time.Hour)
	if got, want := sum(ints(field(t, fr, "events", data.FieldTypeInt64))), int64(f.count(t, "SELECT count() FROM events WHERE source_zone = 'mynumber' AND "+inRange())); got != want || want == 0 {
		t.Errorf("scoped viewer: %d mynumber events, SQL says %d", got, want)
	}
	if r := run(t, ds, analyst, map[string]any{"queryType": "events", "filter": `destination.zone == "mynumber"`}, 0); r.Status != backend.StatusForbidden {
		t.Errorf("analyst without scope on mynumber: status %v", r.Status)
	}
	// A Grafana role the data source does not map is refused.
	if r := run(t, ds, &backend.User{Login: "x", Role: "None"}, map[string]any{"queryType": "timeseries"}, time.Hour); r.Status != backend.StatusForbidden {
		t.Errorf("role None: status %v", r.Status)
	}
}

func testAdhoc(t *testing.T, f *fixture, ds *plugin.Datasource) {
	var user string
	if err := f.conn.QueryRow(t.Context(), "SELECT user_name FROM events WHERE user_name != '' AND "+inRange()+" GROUP BY user_name ORDER BY count() DESC, user_name LIMIT 1").Scan(&user); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		adhoc []map[string]string
		want  uint64
	}{
		{"equal", []map[string]string{{"key": "user.name", "operator": "=", "value": user}},
			f.count(t, "SELECT count() FROM events WHERE user_name = ? AND "+inRange(), user)},
		{"not equal and port", []map[string]string{{"key": "user.name", "operator": "!=", "value": user}, {"key": "destination.port", "operator": "=", "value": "443"}},
			f.count(t, "SELECT count() FROM events WHERE user_name != ? AND destination_port = 443 AND "+inRange(), user)},
		{"regex", []map[string]string{{"key": "url.domain", "operator": "=~", "value": `\.example$`}},
			f.count(t, "SELECT count() FROM events WHERE match(url_domain, '\\\\.example$') AND "+inRange())},
		// A value written to break out of the literal matches only itself (nothing).
		{"hostile", []map[string]string{{"key": "user.name", "operator": "=", "value": `x" || true || "`}}, 0},
		{"hostile 2", []map[string]string{{"key": "user.name", "operator": "=", "value": "x') OR 1=1 --\n\\\"\u00e9\xff"}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := frame(t, ds, admin, map[string]any{"queryType": "timeseries", "adhocFilters": tc.adhoc}, time.Hour)
			if got := sum(ints(field(t, fr, "events", data.FieldTypeInt64))); uint64(got) != tc.want {
				t.Errorf("%d events, SQL says %d", got, tc.want)
			}
		})
	}
	// Unknown fields and operators are errors that say so.
	for _, bad := range []map[string]string{{"key": "nope", "operator": "=", "value": "x"}, {"key": "user.name", "operator": "<", "value": "x"}, {"key": "destination.port", "operator": "=", "value": "22 || true"}} {
		r := run(t, ds, admin, map[string]any{"queryType": "timeseries", "adhocFilters": []map[string]string{bad}}, time.Hour)
		if r.Error == nil || r.Status != backend.StatusBadRequest || !strings.Contains(r.Error.Error(), "ad hoc filter 1") {
			t.Errorf("ad hoc filter %v: status %v error %v", bad, r.Status, r.Error)
		}
	}
}

func testErrors(t *testing.T, _ *fixture, ds *plugin.Datasource) {
	for _, tc := range []struct {
		model  map[string]any
		status backend.Status
		says   string
	}{
		{map[string]any{"queryType": "nope"}, backend.StatusBadRequest, "queryType"},
		{map[string]any{"queryType": "timeseries", "filter": "source.zone == "}, backend.StatusBadRequest, "line 1"},
		{map[string]any{"queryType": "timeseries", "filter": "sourc.zone == \"lgwan\""}, backend.StatusBadRequest, "source.zone"},
		{map[string]any{"queryType": "topn"}, backend.StatusBadRequest, "groupBy"},
		{map[string]any{"queryType": "timeseries", "aggregation": "sum", "field": "user.name"}, backend.StatusBadRequest, "numeric"},
		{map[string]any{"queryType": "alerts", "alertStatus": "closed"}, backend.StatusBadRequest, "alertStatus"},
		{map[string]any{"queryType": "variable", "variable": "colours"}, backend.StatusBadRequest, "variable"},
	} {
		r := run(t, ds, admin, tc.model, time.Hour)
		if r.Error == nil || r.Status != tc.status || !strings.Contains(r.Error.Error(), tc.says) {
			t.Errorf("%v: status %v error %v, want %v saying %q", tc.model, r.Status, r.Error, tc.status, tc.says)
		}
	}
}

func callResource(t *testing.T, ds *plugin.Datasource, u *backend.User, method, path, rawURL string, body any) (int, []byte) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	var resp *backend.CallResourceResponse
	err := ds.CallResource(t.Context(), &backend.CallResourceRequest{PluginContext: backend.PluginContext{User: u}, Method: method, Path: path, URL: rawURL, Body: b},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { resp = r; return nil }))
	if err != nil || resp == nil {
		t.Fatalf("CallResource %s %s: %v", method, path, err)
	}
	return resp.Status, resp.Body
}

func testCallResource(t *testing.T, _ *fixture, ds *plugin.Datasource) {
	for _, tc := range []struct {
		user   *backend.User
		filter string
		want   plugin.ValidateResponse
	}{
		{admin, `source.zone == "lgwan" && destination.port in [22, 3389]`, plugin.ValidateResponse{Valid: true, Exact: true}},
		{admin, `source.zone == "lgwan" && destination.port in [22, 3389`, plugin.ValidateResponse{Line: 1}},
		{admin, "source.zone == \"lgwan\"\n  and sourc.ip == \"10.0.0.1\"", plugin.ValidateResponse{Line: 2, Column: 7}},
		{viewer, `source.zone == "mynumber"`, plugin.ValidateResponse{}},
	} {
		status, body := callResource(t, ds, tc.user, "POST", "validate", "validate", map[string]string{"filter": tc.filter})
		var got plugin.ValidateResponse
		if err := json.Unmarshal(body, &got); err != nil || status != 200 {
			t.Fatalf("validate %q: %d %s", tc.filter, status, body)
		}
		if got.Valid != tc.want.Valid || got.Exact != tc.want.Exact || got.Line != tc.want.Line || tc.want.Column != 0 && got.Column != tc.want.Column || !got.Valid && got.Message == "" {
			t.Errorf("validate %q = %s, want %+v", tc.filter, body, tc.want)
		}
	}
	status, body := callResource(t, ds, viewer, "GET", "fields", "fields", nil)
	var fields []plugin.Field
	if err := json.Unmarshal(body, &fields); err != nil || status != 200 {
		t.Fatalf("fields: %d %s", status, body)
	}
	if !slices.Contains(fields, plugin.Field{Name: "source.zone", Type: "string"}) || !slices.Contains(fields, plugin.Field{Name: "destination.port", Type: "number"}) {
		t.Errorf("fields %s", body)
	}
	url := fmt.Sprintf("variables?name=zones&from=%d&to=%d", simFrom.UnixMilli(), simTo.UnixMilli())
	status, body = callResource(t, ds, admin, "GET", "variables", url, nil)
	var zones []string
	if err := json.Unmarshal(body, &zones); err != nil || status != 200 || !slices.Equal(zones[:3], []string{"mynumber", "lgwan", "internet"}) {
		t.Errorf("variables zones: %d %s", status, body)
	}
	if status, body = callResource(t, ds, admin, "GET", "variables", "variables?name=colours", nil); status != 400 {
		t.Errorf("variables colours: %d %s", status, body)
	}
	if status, _ = callResource(t, ds, admin, "GET", "nope", "nope", nil); status != 404 {
		t.Errorf("unknown resource: %d", status)
	}
}

type packets struct {
	mu sync.Mutex
	p  [][]byte
}

func (p *packets) Send(pk *backend.StreamPacket) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.p = append(p.p, pk.Data)
	return nil
}

func (p *packets) all() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.p)
}

func testRunStream(t *testing.T, f *fixture, ds *plugin.Datasource) {
	sub, err := ds.SubscribeStream(t.Context(), &backend.SubscribeStreamRequest{PluginContext: backend.PluginContext{User: viewer}, Path: "alerts"})
	if err != nil || sub.Status != backend.SubscribeStreamStatusOK {
		t.Fatalf("subscribe alerts: %v %v", sub, err)
	}
	if sub, _ := ds.SubscribeStream(t.Context(), &backend.SubscribeStreamRequest{Path: "events"}); sub.Status != backend.SubscribeStreamStatusNotFound {
		t.Errorf("subscribe events: %v", sub.Status)
	}
	if pub, _ := ds.PublishStream(t.Context(), &backend.PublishStreamRequest{Path: "alerts"}); pub.Status != backend.PublishStreamStatusPermissionDenied {
		t.Errorf("publish: %v", pub.Status)
	}
	p := &packets{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- ds.RunStream(ctx, &backend.RunStreamRequest{PluginContext: backend.PluginContext{User: viewer}, Path: "alerts"}, backend.NewStreamSender(p))
	}()
	time.Sleep(1500 * time.Millisecond) // the stream has read the newest alert and polled once
	if n := len(p.all()); n != 0 {
		t.Fatalf("%d packets before any new alert", n)
	}
	insert := func(id string, zones []string) {
		now := time.Now().UTC()
		if err := f.conn.Exec(t.Context(), "INSERT INTO alerts (id, rule_id, title_ja, title_en, severity, kind, zones, first_seen, last_seen, created, group_key) VALUES (?, 'ZW-TEST', 'テスト', 'test', 'high', 'match', ?, ?, ?, ?, 'user.name=secret')",
			id, zones, now, now, now); err != nil {
			t.Fatal(err)
		}
	}
	// A pair of new alerts until one is streamed: on a loaded machine the stream may still be
	// starting (and take the first pair for old ones); any pair after that must arrive.
	var sent []string
	for i := 0; i < 10 && len(p.all()) == 0; i++ {
		insert(fmt.Sprint("stream-mn-", i), []string{"mynumber", "lgwan"}) // hidden from the shared (viewer-scope) stream
		insert(fmt.Sprint("stream-", i), []string{"lgwan", "internet"})
		sent = append(sent, fmt.Sprint("stream-", i))
		for deadline := time.Now().Add(3 * time.Second); len(p.all()) == 0 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
	}
	time.Sleep(1500 * time.Millisecond) // one more poll: nothing is sent twice
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunStream: %v", err)
	}
	got := p.all()
	if len(got) != 1 {
		t.Fatalf("%d packets, want 1 (the newest lgwan alert, once; sent %v)", len(got), sent)
	}
	var fr data.Frame
	if err := json.Unmarshal(got[0], &fr); err != nil {
		t.Fatal(err)
	}
	if id := strs(field(t, &fr, "id", data.FieldTypeString)); !slices.Equal(id, sent[len(sent)-1:]) {
		t.Errorf("streamed %v, want the last lgwan alert of %v", id, sent)
	}
	if g := strs(field(t, &fr, "group", data.FieldTypeString)); g[0] != "" {
		t.Errorf("the shared stream carries the group %q", g[0])
	}
}
