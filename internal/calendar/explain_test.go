package calendar

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestExplainGolden records every calendar's answer around the year-end
// break, hour marks included, in testdata/explain.golden.
func TestExplainGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "calendars.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var specs map[string]CalendarSpec
	if err := yaml.Unmarshal(data, &specs); err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	start := Date{2026, time.December, 26}
	for d := start; d.Before(Date{2027, time.January, 6}); d = d.AddDays(1) {
		for _, hm := range [][2]int{{3, 0}, {8, 29}, {8, 30}, {12, 30}, {17, 14}, {17, 15}} {
			tm := d.Time(hm[0], hm[1])
			fmt.Fprintf(&buf, "%s\n", tm.Format("2006-01-02 Mon 15:04"))
			for _, name := range set.Names() {
				c, _ := set.Get(name)
				state := "off"
				if c.OnDuty(tm) {
					state = "ON "
				}
				fmt.Fprintf(&buf, "  %-8s %s %s\n", name, state, c.Explain(tm))
			}
		}
	}
	path := filepath.Join("testdata", "explain.golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Explain output changed; compare with %s and rerun with -update if intended", path)
	}
}
