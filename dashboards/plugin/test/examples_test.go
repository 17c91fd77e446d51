// Package test holds checks of the Grafana plugin's frontend files that need zonewatch's Go code.
package test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/zonewatch/zonewatch/query/filter"
)

// The query help's examples (src/examples.json) are what a new analyst copies first: every filter must
// compile with zonewatch's filter compiler and every field they name must exist.
func TestQueryHelpExamples(t *testing.T) {
	raw, err := os.ReadFile("../src/examples.json")
	if err != nil {
		t.Fatalf("read the query help's examples: %v", err)
	}
	var examples []struct {
		Title string `json:"title"`
		Query struct {
			QueryType   string `json:"queryType"`
			Filter      string `json:"filter"`
			GroupBy     string `json:"groupBy"`
			Aggregation string `json:"aggregation"`
			Field       string `json:"field"`
		} `json:"query"`
	}
	if err := json.Unmarshal(raw, &examples); err != nil {
		t.Fatalf("src/examples.json: %v", err)
	}
	if len(examples) < 5 {
		t.Fatalf("src/examples.json has %d examples, want at least 5", len(examples))
	}
	types := []string{"events", "timeseries", "topn", "zonepairs", "offhours", "alerts", "health"}
	for _, ex := range examples {
		t.Run(ex.Title, func(t *testing.T) {
			q := ex.Query
			if !slices.Contains(types, q.QueryType) {
				t.Errorf("queryType %q is not one of %v", q.QueryType, types)
			}
			if _, err := filter.Compile(q.Filter, filter.Options{}); err != nil {
				t.Errorf("filter %q does not compile: %v", q.Filter, err)
			}
			for _, f := range []string{q.GroupBy, q.Field} {
				if _, ok := filter.LookupField(f); f != "" && !ok {
					t.Errorf("field %q is not a filter field", f)
				}
			}
			if (q.Aggregation == "count_distinct" || q.Aggregation == "sum") && q.Field == "" {
				t.Errorf("aggregation %s without a field", q.Aggregation)
			}
		})
	}
}
