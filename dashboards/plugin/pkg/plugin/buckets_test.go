package plugin_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/zonewatch/zonewatch/dashboards/plugin/pkg/plugin"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/event"
)

// TestDayBucketsJapan: a time series in day buckets has one point per Japanese day. An event at
// 16:00 UTC on 25 November (01:00 JST on the 26th) is in the 26 November point, one at 14:59 UTC in
// the 25th; every point starts at 00:00 JST (15:00 UTC), both as the engine counts and as the
// plugin lays out the buckets (bucketTimes), so no count falls between two points.
func TestDayBucketsJapan(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	if _, err := clickhouse.Migrate(t.Context(), conn, clickhouse.MigrateOptions{Database: db}); err != nil {
		t.Fatal(err)
	}
	evs := []event.Event{
		{ID: "late-utc", Timestamp: time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)},
		{ID: "early-utc", Timestamp: time.Date(2026, 11, 25, 14, 59, 0, 0, time.UTC)},
	}
	for i := range evs {
		evs[i].Meta.Ingested = evs[i].Timestamp
	}
	if err := insertEvents(t.Context(), conn, db, evs); err != nil {
		t.Fatal(err)
	}
	f := &fixture{conn: conn, db: db, addr: chtest.Server(t).NativeAddr()}
	inst, err := plugin.NewDatasource(t.Context(), f.settings(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	ds := inst.(*plugin.Datasource)
	t.Cleanup(ds.Dispose)
	b, _ := json.Marshal(map[string]any{"queryType": "timeseries"})
	resp, err := ds.QueryData(t.Context(), &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{User: admin},
		Queries: []backend.DataQuery{{RefID: "A", QueryType: "timeseries", JSON: b, Interval: 24 * time.Hour,
			TimeRange: backend.TimeRange{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Responses["A"]
	if r.Error != nil || len(r.Frames) != 1 {
		t.Fatalf("error %v, %d frames", r.Error, len(r.Frames))
	}
	times := field(t, r.Frames[0], "time", data.FieldTypeTime)
	vals := ints(field(t, r.Frames[0], "events", data.FieldTypeInt64))
	jst := time.FixedZone("JST", 9*60*60)
	var got []string
	for i := range times.Len() {
		got = append(got, fmt.Sprintf("%s=%d", times.At(i).(time.Time).In(jst).Format("01-02T15:04"), vals[i]))
	}
	// From 09:00 JST on the 24th to 09:00 JST on the 27th: the 24th, 25th, 26th and 27th.
	want := []string{"11-24T00:00=0", "11-25T00:00=1", "11-26T00:00=1", "11-27T00:00=0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("day points (JST) %v, want %v", got, want)
	}
}
