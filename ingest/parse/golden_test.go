package parse

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden runs every testdata/golden/*.txt through the parsers and compares with the .golden file next
// to it: one JSON object per input line with the format, the error and the event.
//
//	parse-*.txt  one message per line: app name, a tab, the body (Parse)
//	file-<format>.txt  one log-file line per line (ParseFile with that format)
func TestGolden(t *testing.T) {
	p := testParsers(t)
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs (%v)", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			for _, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
				var e event.Event
				var format string
				var perr error
				if f, ok := strings.CutPrefix(name, "file-"); ok {
					format, perr = f, p.ParseFile(f, line, nil, &e)
				} else {
					app, body, _ := strings.Cut(line, "\t")
					format, perr = p.Parse(Input{AppName: app, Body: body}, &e)
				}
				rec := struct {
					Format string      `json:"format"`
					Error  string      `json:"error,omitempty"`
					Event  event.Event `json:"event"`
				}{Format: format, Event: e}
				if perr != nil {
					rec.Error = perr.Error()
				}
				b, err := json.Marshal(rec)
				if err != nil {
					t.Fatal(err)
				}
				out.Write(b)
				out.WriteByte('\n')
			}
			golden := strings.TrimSuffix(in, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				gotLines, wantLines := strings.Split(out.String(), "\n"), strings.Split(string(want), "\n")
				for i := range max(len(gotLines), len(wantLines)) {
					var g, w string
					if i < len(gotLines) {
						g = gotLines[i]
					}
					if i < len(wantLines) {
						w = wantLines[i]
					}
					if g != w {
						t.Errorf("%s line %d:\n got: %s\nwant: %s", golden, i+1, g, w)
					}
				}
			}
		})
	}
}
