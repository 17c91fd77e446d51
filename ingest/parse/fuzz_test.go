package parse

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

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
		if len(u.Value) > maxErrValue || u.Format == "" || u.Reason == "" || u.Field == "" && u.Value != "" {
			t.Fatalf("malformed error %#v", u)
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
		if format == FormatSyslog && !reflect.DeepEqual(e, event.Event{Meta: event.Meta{Module: FormatSyslog}}) {
			t.Fatalf("an unrecognised body left fields in the event: %+v", e)
		}
		if format != FormatSyslog {
			// Parsers tried before the one that took the body must have left no trace in the event.
			var direct event.Event
			_, _ = p.parseAs(format, strings.TrimSpace(body), p.tokyo, &direct)
			if !reflect.DeepEqual(e, direct) {
				t.Fatalf("event differs from the %s parser's own: %+v / %+v", format, e, direct)
			}
		}
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
		if e.Meta.Module != module(format) {
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

// FuzzFortiGateFields checks the hand-written field readers against the standard library: an address,
// port or byte count is taken exactly when net/netip or strconv would take it, and otherwise the error
// names the field.
func FuzzFortiGateFields(f *testing.F) {
	f.Add("10.1.2.3", "443", "1234")
	f.Add("::ffff:10.1.2.3", "0080", "0")
	f.Add("2001:db8::1", "65536", "18446744073709551615")
	f.Add("10.1.2", "-1", "+5")
	p := testParsers(f)
	f.Fuzz(func(t *testing.T, srcip, port, bytes string) {
		for _, v := range []string{srcip, port, bytes} {
			if v == "" || strings.ContainsAny(v, "\",=\\") || strings.ContainsFunc(v, unicode.IsSpace) {
				return // would change the line's structure (or be trimmed off it), not the field's value
			}
		}
		var e event.Event
		_, err := p.Parse(Input{Body: "logid=13 type=traffic srcip=" + srcip + " srcport=" + port + " sentbyte=" + bytes}, &e)
		var u *Unparsed
		if err != nil && !errors.As(err, &u) {
			t.Fatalf("error %T %v", err, err)
		}
		a, aerr := netip.ParseAddr(srcip)
		pn, perr := strconv.ParseUint(port, 10, 16)
		bn, berr := strconv.ParseUint(bytes, 10, 64)
		if berr == nil && bn > 1<<63 {
			berr = strconv.ErrRange
		}
		if bytes == "-" { // a dash is "not counted", by design
			bn, berr = 0, nil
		}
		switch {
		case aerr != nil:
			if u == nil || u.Field != "srcip" {
				t.Fatalf("srcip %q: netip says %v, parser err %v", srcip, aerr, err)
			}
		case perr != nil:
			if u == nil || u.Field != "srcport" {
				t.Fatalf("srcport %q: strconv says %v, parser err %v", port, perr, err)
			}
		case berr != nil:
			if u == nil || u.Field != "sentbyte" {
				t.Fatalf("sentbyte %q: strconv says %v, parser err %v", bytes, berr, err)
			}
		default:
			if err != nil || e.Source.IP != a.Unmap() || uint64(e.Source.Port) != pn || e.Source.Bytes != bn {
				t.Fatalf("%q %q %q: got %v %d %d, err %v", srcip, port, bytes, e.Source.IP, e.Source.Port, e.Source.Bytes, err)
			}
		}
	})
}

// FuzzTimeReaders checks the hand-written time readers against time.Parse: whatever they accept,
// time.Parse reads as the same instant.
func FuzzTimeReaders(f *testing.F) {
	f.Add("25/Nov/2026:09:15:01 +0900", "2026/11/25", "09:15:01")
	f.Add("29/Feb/2028:23:59:59 -0030", "2026-02-29", "24:00:00")
	tokyo := tokyo()
	f.Fuzz(func(t *testing.T, c, date, clock string) {
		if got, ok := clf(c, tokyo); ok {
			layout := "02/Jan/2006:15:04:05 -0700"
			if len(c) == 20 {
				layout = "02/Jan/2006:15:04:05"
			}
			want, err := time.ParseInLocation(layout, c, tokyo)
			if err != nil || !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("clf(%q) = %v; time.Parse = %v, %v", c, got, want, err)
			}
		}
		if got, ok := dateClock(date, clock, tokyo); ok {
			layout := "2006-01-02 15:04:05"
			if date[4] == '/' {
				layout = "2006/01/02 15:04:05"
			}
			clk := clock
			if len(clk) > 8 {
				clk = clk[:8]
			}
			want, err := time.ParseInLocation(layout, date+" "+clk, tokyo)
			if err != nil || !got.Equal(want) {
				t.Fatalf("dateClock(%q, %q) = %v; time.Parse = %v, %v", date, clock, got, want, err)
			}
		}
	})
}
