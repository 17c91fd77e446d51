package plugin_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/dashboards/plugin/pkg/plugin"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testFrameSchemas pins the shape of every query type's frame (name, meta type, fields with their
// types and units) and the fields resource in testdata/frames.golden: they are the contract with
// the frontend and the dashboards, so a change shows in review. Values are checked elsewhere.
func testFrameSchemas(t *testing.T, _ *fixture, ds *plugin.Datasource) {
	var b strings.Builder
	for _, m := range []map[string]any{
		{"queryType": "events", "limit": 1},
		{"queryType": "timeseries"},
		{"queryType": "timeseries", "groupBy": "source.zone", "format": "long"},
		{"queryType": "topn", "groupBy": "user.name", "aggregation": "sum", "field": "destination.bytes"},
		{"queryType": "zonepairs"},
		{"queryType": "offhours", "offHoursBy": "host"},
		{"queryType": "alerts", "alertStatus": "all"},
		{"queryType": "health"},
		{"queryType": "health", "healthView": "dead_letters"},
		{"queryType": "variable", "variable": "severities"},
	} {
		fr := frame(t, ds, admin, m, time.Hour)
		js, _ := json.Marshal(m)
		fmt.Fprintf(&b, "%s\n  frame %q", js, fr.Name)
		if fr.Meta != nil && fr.Meta.Type != "" {
			fmt.Fprintf(&b, " type %s", fr.Meta.Type)
		}
		if fr.Meta != nil && fr.Meta.PreferredVisualization != "" {
			fmt.Fprintf(&b, " visualisation %s", fr.Meta.PreferredVisualization)
		}
		b.WriteString("\n")
		for _, f := range fr.Fields {
			unit := ""
			if f.Config != nil && f.Config.Unit != "" {
				unit = " unit " + f.Config.Unit
			}
			fmt.Fprintf(&b, "  %s %s%s\n", f.Name, f.Type(), unit)
		}
	}
	status, body := callResource(t, ds, admin, "GET", "fields", "fields", nil)
	fmt.Fprintf(&b, "GET fields %d\n", status)
	var fields []plugin.Field
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		fmt.Fprintf(&b, "  %s %s\n", f.Name, f.Type)
	}
	golden(t, "testdata/frames.golden", b.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run go test -run TestBackend -update to create it", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test -run TestBackend -update rewrites it after review):\n--- got\n%s--- want\n%s", path, got, want)
	}
}
