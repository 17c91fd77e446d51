package parse

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// testParsers builds parsers with the default options.
func testParsers(t testing.TB) *Parsers {
	t.Helper()
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// parseCase is one row of a format's table: a body (or file line), the format and event wanted, and
// for broken lines the field the *Unparsed must name.
type parseCase struct {
	name     string
	app      string // Parse only
	body     string
	format   string // Parse only
	want     event.Event
	errField string // "" means no error wanted; "-" means an error naming no field
}

// check compares the outcome of one case.
func check(t *testing.T, c parseCase, format string, got event.Event, err error) {
	t.Helper()
	if c.format != "" && format != c.format {
		t.Errorf("format = %q, want %q (err %v)", format, c.format, err)
	}
	if c.errField != "" {
		var u *Unparsed
		if !errors.As(err, &u) {
			t.Fatalf("err = %v, want an *Unparsed", err)
		}
		if c.errField != "-" && u.Field != c.errField {
			t.Errorf("Unparsed.Field = %q, want %q (%v)", u.Field, c.errField, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if !reflect.DeepEqual(got, c.want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(c.want)
		t.Errorf("event differs\n got: %s\nwant: %s", g, w)
	}
}

// runParse runs a table through Parse.
func runParse(t *testing.T, cases []parseCase) {
	p := testParsers(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e event.Event
			format, err := p.Parse(Input{AppName: c.app, Body: c.body}, &e)
			check(t, c, format, e, err)
		})
	}
}

// runFile runs a table through ParseFile.
func runFile(t *testing.T, format string, cases []parseCase) {
	p := testParsers(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e event.Event
			err := p.ParseFile(format, c.body, nil, &e)
			check(t, c, "", e, err)
		})
	}
}
