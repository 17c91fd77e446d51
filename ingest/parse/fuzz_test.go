package parse

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// The fuzz targets check what must hold for any input: no panic, no endless loop, an *Unparsed for
// every failure, "syslog" only with an error, UTC timestamps, bounded labels, and the same event twice.
// Seeds: the golden inputs, plus the corpora under testdata/fuzz/<target>/.

var knownFormats = map[string]bool{FormatFortiGate: true, FormatIPTables: true, FormatSSHD: true, FormatSquid: true,
	FormatIFilter: true, FormatInterSafe: true, FormatGateway: true, FormatJSON: true, FormatKV: true, FormatSyslog: true}

// goldenLines returns the lines of the golden inputs whose names match pattern.
func goldenLines(f *testing.F, pattern string) []string {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", pattern))
	var lines []string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimRight(string(b), "\n"), "\n")...)
	}
	return lines
}

func checkEvent(t *testing.T, e *event.Event, err error) {
	t.Helper()
	if err != nil {
		var u *Unparsed
		if !errors.As(err, &u) {
			t.Fatalf("error is not an *Unparsed: %T %v", err, err)
		}
		if len(u.Value) > maxErrValue {
			t.Fatalf("error value has %d bytes", len(u.Value))
		}
	}
	if !e.Timestamp.IsZero() && e.Timestamp.Location() != time.UTC {
		t.Fatalf("timestamp %v not in UTC", e.Timestamp)
	}
	if len(e.Labels) > 32 {
		t.Fatalf("%d labels", len(e.Labels))
	}
}

func FuzzParse(f *testing.F) {
	for _, line := range goldenLines(f, "parse-*.txt") {
		app, body, _ := strings.Cut(line, "\t")
		f.Add(app, body)
	}
	p := testParsers(f)
	f.Fuzz(func(t *testing.T, app, body string) {
		var e, again event.Event
		format, err := p.Parse(Input{AppName: app, Body: body}, &e)
		if !knownFormats[format] {
			t.Fatalf("format %q", format)
		}
		if format == FormatSyslog && err == nil {
			t.Fatal("syslog without an error")
		}
		if e.Meta.Module != format {
			t.Fatalf("module %q, format %q", e.Meta.Module, format)
		}
		checkEvent(t, &e, err)
		format2, err2 := p.Parse(Input{AppName: app, Body: body}, &again)
		if format2 != format || (err == nil) != (err2 == nil) || !reflect.DeepEqual(e, again) {
			t.Fatalf("second parse differs: %q %v / %q %v", format, err, format2, err2)
		}
	})
}

// fuzzFile is the body of the per-file-format targets.
func fuzzFile(f *testing.F, format string) {
	for _, line := range goldenLines(f, "file-"+format+".txt") {
		f.Add(line)
	}
	p := testParsers(f)
	f.Fuzz(func(t *testing.T, line string) {
		var e, again event.Event
		err := p.ParseFile(format, line, nil, &e)
		checkEvent(t, &e, err)
		if err == nil && e.Meta.Module != module(format) {
			t.Fatalf("module %q", e.Meta.Module)
		}
		err2 := p.ParseFile(format, line, nil, &again)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(e, again) {
			t.Fatalf("second parse differs: %v / %v", err, err2)
		}
	})
}

func FuzzParseFileSquid(f *testing.F)         { fuzzFile(f, FormatSquid) }
func FuzzParseFileSquidCombined(f *testing.F) { fuzzFile(f, FormatSquidCombined) }
func FuzzParseFileIFilter(f *testing.F)       { fuzzFile(f, FormatIFilter) }
func FuzzParseFileInterSafe(f *testing.F)     { fuzzFile(f, FormatInterSafe) }
